// Stored model links of the given identifiers (keys as [type, value]), both directions.
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[m:MODEL_LINK]-(j:Identifier)
RETURN i.type, i.value, j.type, j.value, m.score
