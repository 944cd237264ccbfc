// Observation edges whose two ends are both of the given types (deterministic links),
// with how often the two were seen together (the link's weight) and when (first, last:
// merge protection tells a number handed on from one person to the next by them).
MATCH (a:Identifier)-[o:OBSERVED_WITH]->(b:Identifier)
WHERE a.type IN $types AND b.type IN $types
RETURN a.type, a.value, b.type, b.value, o.count, o.first_seen, o.last_seen
