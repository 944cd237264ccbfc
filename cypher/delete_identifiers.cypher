// Erase identifiers with all their relationships; their profile notes when its
// members changed (see assign_profiles).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p:Profile)
SET p.members_changed_at = timestamp()
WITH DISTINCT i
DETACH DELETE i
RETURN count(*)
