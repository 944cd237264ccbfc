// Store facts made by adding new events to the stored ones (fact_deltas, fact_inputs
// with $add), only where the stored facts are still the ones they were added to (the
// same facts_at and facts_sequence) and count the same members (no change of members
// or erased event since): a concurrent refresh or a change of members always wins.
// Returns the profiles written; the others are computed again from all their events.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
WHERE p.facts_at = r.base_at AND p.facts_sequence = r.base_sequence
  AND p.facts_members = r.members AND coalesce(p.members_version, 0) = r.members
SET p += r.facts, p.facts_sequence = r.sequence
RETURN p.profile_id
