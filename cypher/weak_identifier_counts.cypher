// For every weak identifier (an IP) of $weak: how many identifiers of $types were seen
// with it (observation edges: one a pair, however many events), and the most values of
// any one of $accounts among them (types a deterministic cluster holds one of at most).
// What a sample of the graph is drawn by (graph/store/samples.py): which IPs are homes
// small enough to read whole, and which are networks no candidate comes from.
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (w:Identifier)-[:OBSERVED_WITH]-(s)
WHERE w.type IN $weak AND s.type IN $types
WITH w, s.type AS type, count(s) AS n
RETURN w.type, w.value, sum(n), max(CASE WHEN type IN $accounts THEN n ELSE 0 END)
