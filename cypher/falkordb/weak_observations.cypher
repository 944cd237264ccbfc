// FalkorDB: every (strong identifier, weak identifier, user agent, time) seen in one
// event, for the identifiers whose internal node IDs are in ($low, $high]: the
// evidence model features are computed from, read a range at a time
// (graph/store/observations.py; cypher/weak_observations.cypher reads it whole).
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (i:Identifier)
WHERE id(i) > $low AND id(i) <= $high AND i.type IN $types
MATCH (i)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(w)
WHERE w.type IN $weak
RETURN i.type, i.value, w.value, e.user_agent, e.ts
