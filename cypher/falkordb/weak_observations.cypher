// FalkorDB: every (strong identifier, weak identifier, user agent, time) seen in one
// event, for the identifiers whose internal node IDs are in ($low, $high]: the
// evidence model features are computed from, read a range at a time
// (graph/store/observations.py; cypher/weak_observations.cypher reads it whole).
MATCH (i:Identifier)
WHERE id(i) > $low AND id(i) <= $high AND i.type IN $types
MATCH (i)-[:SEEN_IN]->(e:Event)<-[:SEEN_IN]-(w:Identifier)
WHERE w.type IN $weak
RETURN i.type, i.value, w.value, e.user_agent, e.ts
