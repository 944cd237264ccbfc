// A few identifiers of one type from the largest profiles (demo hints).
MATCH (p:Profile)<-[:BELONGS_TO]-(i:Identifier {type: $type})
RETURN i.value, p.size AS size
ORDER BY size DESC, i.value
LIMIT $limit
