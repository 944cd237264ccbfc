// Observation edges whose two ends are both of the given types (deterministic links),
// with how often the two were seen together (the link's weight) and when (first, last:
// merge protection tells a number handed on from one person to the next by them).
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (a:Identifier)-[o:OBSERVED_WITH]->(b)
WHERE a.type IN $types AND b.type IN $types
RETURN a.type, a.value, b.type, b.value, o.count, o.first_seen, o.last_seen
