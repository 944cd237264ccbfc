// FalkorDB: every (strong identifier, weak identifier, user agent, time) seen in one
// event, for the identifiers whose internal node IDs are in ($low, $high], a row an
// identifier: its evidence as one JSON text [type, value, [[weak value, user agent or
// null, ms], ...]], or, when one of its strings holds a double quote or a backslash
// (toJSON does not escape them), null and the same list as typed cells. The evidence
// model features are computed from, read a range at a time (graph/store/observations.py;
// cypher/weak_observations.cypher returns it as a row an event). A text an identifier
// instead of five typed cells an event: the client's parsing of those cells was most
// of the read at a million identifiers (docs/benchmarks.md). Texts built here with
// replace() and string.join came back empty for a few rows; toJSON's have not.
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (i:Identifier)
WHERE id(i) > $low AND id(i) <= $high AND i.type IN $types
MATCH (i)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(w)
WHERE w.type IN $weak
WITH i, collect([w.value, e.user_agent, e.ts]) AS seen
WITH i, seen,
  any(s IN [i.type, i.value] + [o IN seen | o[0]] + [o IN seen WHERE o[1] IS NOT NULL | o[1]]
      WHERE s CONTAINS '"' OR s CONTAINS '\\') AS quoted
RETURN CASE WHEN quoted THEN null ELSE toJSON([i.type, i.value, seen]) END,
  CASE WHEN quoted THEN [i.type, i.value, seen] END
