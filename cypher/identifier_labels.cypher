// The labels of one identifier (Identifier plus its type label once resolve has run).
MATCH (i:Identifier {type: $type, value: $value})
RETURN labels(i)
