// Store facts made by adding new events to the stored ones (fact_deltas), only where
// the stored facts are still the ones they were added to (the same facts_at and
// facts_sequence, no change of members since): a concurrent refresh or a change of
// members always wins. Returns the profiles written; the others are computed again
// from all their events.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
WHERE p.facts_at = r.base_at AND p.facts_sequence = r.base_sequence
  AND coalesce(p.members_changed_at, 0) < r.base_at
SET p += r.facts, p.facts_sequence = r.sequence
RETURN p.profile_id
