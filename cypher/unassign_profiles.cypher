// Take identifiers out of their profile (they left the clustering graph); the profile
// counts a change of members (see assign_profiles).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})-[old:BELONGS_TO]->(p:Profile)
SET p.members_version = coalesce(p.members_version, 0) + 1
DELETE old
RETURN count(*)
