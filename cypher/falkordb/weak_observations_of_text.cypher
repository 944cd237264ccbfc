// FalkorDB: cypher/weak_observations_of.cypher a row an identifier, its evidence as one
// JSON text [type, value, [[weak value, user agent or null, ms], ...]] (or, when one of
// its strings holds a double quote or a backslash, which toJSON leaves unescaped, null
// and the same list as typed cells): as cypher/falkordb/weak_observations_text.cypher
// does for the whole graph.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[:SEEN_IN]->(e)<-[:SEEN_IN]-(w)
WHERE w.type IN $weak
WITH i, collect([w.value, e.user_agent, e.ts]) AS seen
WITH i, seen,
  any(s IN [i.type, i.value] + [o IN seen | o[0]] + [o IN seen WHERE o[1] IS NOT NULL | o[1]]
      WHERE s CONTAINS '"' OR s CONTAINS '\\') AS quoted
RETURN CASE WHEN quoted THEN null ELSE toJSON([i.type, i.value, seen]) END,
  CASE WHEN quoted THEN [i.type, i.value, seen] END
