// Store computed facts on profiles (a null value removes a property, e.g. a trait
// the profile no longer has). facts_at is the store time their inputs were read:
// facts read earlier than the stored ones are dropped, so concurrent refreshes of
// one profile (real-time updates run outside the resolution lock) never leave the
// older state behind. facts_sequence (r.sequence: the ingest sequence they count the
// events up to) lets fact_deltas add later events to them; it is left null when the
// profile's members changed after the events were read.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
WHERE p.facts_at IS NULL OR p.facts_at <= r.facts.facts_at
SET p += r.facts,
  p.facts_sequence = CASE WHEN coalesce(p.members_changed_at, 0) < r.facts.facts_at
    THEN r.sequence END
RETURN count(p)
