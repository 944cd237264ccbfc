// FalkorDB: the active profiles whose internal node IDs are in ($low, $high] with their
// purchases up to $as_of: (profile_id, purchases, last purchase, total amount);
// profiles without any have 0. Paged by ID ranges as profiles_page is (the work
// follows the page, not the profiles after a cursor).
MATCH (p:Profile)
WHERE id(p) > $low AND id(p) <= $high
OPTIONAL MATCH (p)<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(e:Event)
WHERE p.status IS NULL AND e.type IN $purchase_types AND e.ts <= $as_of
WITH DISTINCT p, e
RETURN p.profile_id, count(e), max(e.ts), sum(coalesce(e.amount, 0.0))
ORDER BY p.profile_id
