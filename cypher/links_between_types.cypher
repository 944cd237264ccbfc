// Observation edges whose two ends are both of the given types (deterministic links).
MATCH (a:Identifier)-[:OBSERVED_WITH]->(b:Identifier)
WHERE a.type IN $types AND b.type IN $types
RETURN a.type, a.value, b.type, b.value
