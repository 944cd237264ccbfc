// Take identifiers out of their profile (they left the clustering graph); the profile
// notes when its members changed (see assign_profiles).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})-[old:BELONGS_TO]->(p:Profile)
SET p.members_changed_at = timestamp()
DELETE old
RETURN count(*)
