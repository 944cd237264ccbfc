// Erase identifiers with all their relationships.
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
DETACH DELETE i
RETURN count(*)
