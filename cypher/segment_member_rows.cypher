// Members of the given profiles with the facts a segment member list and an
// audience export show.
UNWIND $ids AS pid
MATCH (p:Profile {profile_id: pid})
MATCH (i:Identifier)-[:BELONGS_TO]->(p)
RETURN p.profile_id, p.size, p.first_seen, p.last_seen, p.event_count, p.purchase_count,
  p.purchase_total, p.last_purchase, p.rfm_group, p.rfm_score, p.traits, p.household_id,
  collect([i.type, i.value, coalesce(i.quarantined, false)])
