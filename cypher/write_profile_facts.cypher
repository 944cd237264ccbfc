// Store computed facts on profiles (a null value removes a property, e.g. a trait
// the profile no longer has).
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
SET p += r.facts
RETURN count(p)
