// Which of the given identifiers are flagged as quarantined now.
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WHERE i.quarantined = true
RETURN i.type, i.value
