// Forget refused links touching the given identifiers (before recording new ones).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})-[r:REFUSED]-()
DELETE r
RETURN count(*)
