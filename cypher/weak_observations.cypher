// Every (strong identifier, weak identifier, user agent, time) seen in one event: the
// evidence model features are computed from (which cookie was on which IP, with
// which browser, when).
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (i:Identifier)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(w)
WHERE i.type IN $types AND w.type IN $weak
RETURN i.type, i.value, w.value, e.user_agent, e.ts
