// Every identifier of the given types (the nodes of the clustering graph).
MATCH (i:Identifier)
WHERE i.type IN $types
RETURN i.type, i.value
