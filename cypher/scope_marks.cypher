// What the plan's writes must know of the given identifiers (keys as [type, value])
// besides their links: which are flagged as quarantined now, and the refused links
// touching them ([a type, a value, b type, b value, kind, reason], a -> b as stored),
// so that an update writes only the refused links that changed
// (graph/store/profiles.py). Only identifiers with either have a row.
// Not two pattern comprehensions in one expression ([(i)-[r:REFUSED]->(j) | ...] +
// [(i)<-[r:REFUSED]-(j) | ...]): FalkorDB 4.16 took 7.6 s for 500 identifiers of the
// real-time bench's store with the same variable names in both (5.7 ms a 100 with
// names of their own), against 11 ms for this OPTIONAL MATCH (docs/architecture.md).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
OPTIONAL MATCH (i)-[r:REFUSED]-(j)
WITH i, collect(CASE WHEN r IS NULL THEN null WHEN startNode(r) = i
  THEN [i.type, i.value, j.type, j.value, r.kind, r.reason]
  ELSE [j.type, j.value, i.type, i.value, r.kind, r.reason] END) AS refused
WHERE i.quarantined = true OR size(refused) > 0
RETURN i.type, i.value, i.quarantined = true, refused
