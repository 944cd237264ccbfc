// Every identifier of $types seen at each of the given weak identifiers (keys as
// [type, value]), with the user agents of the events it was seen there in: how many
// devices an IP was seen with (ml/evidence.py, ip_degrees), read without anyone's
// other events (graph/store/samples.py).
// WITH pins the plan: start at the given identifiers and traverse.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (w:Identifier {type: k[0], value: k[1]})
WITH w
MATCH (w)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(i)
WHERE i.type IN $types
RETURN w.value, i.type, i.value, collect(DISTINCT e.user_agent)
