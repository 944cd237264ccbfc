// Recount members of the given profiles.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $ids AS pid
MATCH (p:Profile {profile_id: pid})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p)
WITH p, count(i) AS size
SET p.size = size
RETURN count(p)
