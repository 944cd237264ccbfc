// A page of profiles after a given ID, in ID order, with their members: one row for
// every profile of the page, also one without members (a profile retired by a
// merge), so that a short page means the last one (graph.store.runner._pages).
MATCH (p:Profile)
WHERE p.profile_id > $after
WITH p
ORDER BY p.profile_id
LIMIT $limit
OPTIONAL MATCH (i:Identifier)-[:BELONGS_TO]->(p)
WITH p, collect(i) AS members
RETURN p.profile_id, [m IN members | [m.type, m.value]]
ORDER BY p.profile_id
