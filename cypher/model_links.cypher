// Every stored model link.
MATCH (a:Identifier)-[m:MODEL_LINK]->(b:Identifier)
RETURN a.type, a.value, b.type, b.value, m.score
