// The identifiers of $types seen with each of the given weak identifiers (keys as
// [type, value]): everyone at these IPs, for a sample of the graph read whole at them
// (graph/store/samples.py).
// WITH pins the plan: start at the given identifiers and traverse.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (w:Identifier {type: k[0], value: k[1]})
WITH w
MATCH (w)-[:OBSERVED_WITH]-(s)
WHERE s.type IN $types
RETURN w.type, w.value, s.type, s.value
