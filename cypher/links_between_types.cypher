// Observation edges whose two ends are both of the given types (deterministic links),
// with how often the two were seen together (the link's weight).
MATCH (a:Identifier)-[o:OBSERVED_WITH]->(b:Identifier)
WHERE a.type IN $types AND b.type IN $types
RETURN a.type, a.value, b.type, b.value, o.count
