// Which of the given identifiers exist (keys as [type, value]).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
RETURN i.type, i.value
