// A page of profiles after a given ID, in ID order, with their members.
MATCH (p:Profile)
WHERE p.profile_id > $after
WITH p
ORDER BY p.profile_id
LIMIT $limit
MATCH (i:Identifier)-[:BELONGS_TO]->(p)
RETURN p.profile_id, collect([i.type, i.value])
ORDER BY p.profile_id
