// Links refused at the last resolve that touch one identifier.
MATCH (i:Identifier {type: $type, value: $value})-[r:REFUSED]-(j:Identifier)
RETURN j.type, j.value, r.kind, r.reason
ORDER BY j.type, j.value
LIMIT $limit
