// Recount members of the given profiles.
UNWIND $ids AS pid
MATCH (p:Profile {profile_id: pid})
OPTIONAL MATCH (i:Identifier)-[:BELONGS_TO]->(p)
WITH p, count(i) AS size
SET p.size = size
RETURN count(p)
