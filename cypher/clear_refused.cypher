// Forget refused links touching the given identifiers (before recording new ones).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})-[r:REFUSED]-(:Identifier)
DELETE r
RETURN count(*)
