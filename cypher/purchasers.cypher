// A page of active profiles (profile_id order) with their purchases up to $as_of:
// (profile_id, purchases, last purchase, total amount); profiles without any have 0.
MATCH (p:Profile)
WHERE p.profile_id > $after
WITH p
ORDER BY p.profile_id
LIMIT $limit
OPTIONAL MATCH (p)<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(e:Event)
WHERE p.status IS NULL AND e.type IN $purchase_types AND e.ts <= $as_of
WITH DISTINCT p, e
RETURN p.profile_id, count(e), max(e.ts), sum(coalesce(e.amount, 0.0))
ORDER BY p.profile_id
