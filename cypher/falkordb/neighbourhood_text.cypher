// FalkorDB: cypher/neighbourhood.cypher a row an identifier, its links as one JSON
// text [type, value, [[type, value, relationship, weight, first, last], ...]] (or, when
// one of its strings holds a double quote or a backslash, which toJSON leaves
// unescaped, null and the same list as typed cells): a closure of a sample of the
// graph reads about a million links, and their typed cells were most of that time
// (docs/benchmarks.md). Only the given identifiers with a link have a row.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[o:OBSERVED_WITH|MODEL_LINK]-(j)
WHERE j.type IN $types
WITH i, collect([j.type, j.value, type(o), coalesce(o.count, o.score), o.first_seen,
  o.last_seen]) AS linked
WITH i, linked,
  any(s IN [i.type, i.value] + [o IN linked | o[0]] + [o IN linked | o[1]]
      WHERE s CONTAINS '"' OR s CONTAINS '\\') AS quoted
RETURN CASE WHEN quoted THEN null ELSE toJSON([i.type, i.value, linked]) END,
  CASE WHEN quoted THEN [i.type, i.value, linked] END
