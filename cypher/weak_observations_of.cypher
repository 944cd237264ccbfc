// Every (strong identifier, weak identifier, user agent, time) seen in one event, for
// the given strong identifiers (keys as [type, value]): cypher/weak_observations.cypher
// for a sample of the graph (graph/store/samples.py).
// WITH pins the plan: start at the given identifiers and traverse.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(w)
WHERE w.type IN $weak
RETURN i.type, i.value, w.value, e.user_agent, e.ts
