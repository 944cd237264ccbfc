// What the plan's writes must know of the given identifiers (keys as [type, value])
// besides their links: which are flagged as quarantined now, and the refused links
// touching them ([a type, a value, b type, b value, kind, reason], a -> b as stored),
// so that an update writes only the refused links that changed
// (graph/store/profiles.py). Only identifiers with either have a row.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i,
  [(i)-[r:REFUSED]->(j) | [i.type, i.value, j.type, j.value, r.kind, r.reason]] +
  [(i)<-[r:REFUSED]-(j) | [j.type, j.value, i.type, i.value, r.kind, r.reason]] AS refused
WHERE i.quarantined = true OR size(refused) > 0
RETURN i.type, i.value, i.quarantined = true, refused
