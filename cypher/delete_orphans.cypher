// Identifiers among the given ones that no remaining event mentions.
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WHERE NOT (i)-[:SEEN_IN]->(:Event)
DETACH DELETE i
RETURN count(*)
