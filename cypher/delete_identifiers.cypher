// Erase identifiers with all their relationships; their profile counts a change of
// members (see assign_profiles).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p:Profile)
SET p.members_version = coalesce(p.members_version, 0) + 1
WITH DISTINCT i
DETACH DELETE i
RETURN count(*)
