// Store computed facts on profiles (a null value removes a property, e.g. a trait
// the profile no longer has). facts_at is the store time their inputs were read:
// facts read earlier than the stored ones are dropped, so concurrent refreshes of
// one profile (real-time updates run outside the resolution lock) never leave the
// older state behind.
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
WHERE p.facts_at IS NULL OR p.facts_at <= r.facts.facts_at
SET p += r.facts
RETURN count(p)
