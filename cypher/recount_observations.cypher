// Recompute observation edges from the events that remain (after erasure); an edge
// no remaining event supports is deleted.
UNWIND $pairs AS pr
MATCH (a:Identifier {type: pr[0], value: pr[1]})-[o:OBSERVED_WITH]-(b:Identifier {type: pr[2], value: pr[3]})
OPTIONAL MATCH (a)-[:SEEN_IN]->(e:Event)<-[:SEEN_IN]-(b)
WITH o, count(e) AS n, min(e.ts) AS first, max(e.ts) AS last, collect(DISTINCT e.source) AS sources
SET o.count = n, o.first_seen = first, o.last_seen = last, o.sources = sources
FOREACH (_ IN CASE WHEN n = 0 THEN [1] ELSE [] END | DELETE o)
RETURN count(*)
