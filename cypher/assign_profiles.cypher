// Move identifiers to (possibly new) profiles; replaces any previous BELONGS_TO.
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
OPTIONAL MATCH (i)-[old:BELONGS_TO]->(:Profile)
DELETE old
WITH DISTINCT i, r
MERGE (p:Profile {profile_id: r.profile_id})
  ON CREATE SET p.created_at = $now
SET p.updated_at = $now
CREATE (i)-[:BELONGS_TO]->(p)
RETURN count(*)
