// Store computed facts on profiles (a null value removes a property, e.g. a trait
// the profile no longer has). facts_at is the store time their inputs were read:
// facts read earlier than the stored ones are dropped, so concurrent refreshes of
// one profile (real-time updates run outside the resolution lock) never leave the
// older state behind. facts_members (r.members) is the profile's members_version
// they were counted for, and facts_sequence (r.sequence) the ingest sequence they
// count the events up to: fact_deltas and fact_inputs with $add add later events to
// them while the members are those; it is left null when the profile's members
// changed after the events were read.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
WHERE p.facts_at IS NULL OR p.facts_at <= r.facts.facts_at
SET p += r.facts, p.facts_members = r.members,
  p.facts_sequence = CASE WHEN coalesce(p.members_version, 0) = r.members
    THEN r.sequence END
RETURN count(p)
