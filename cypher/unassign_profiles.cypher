// Take identifiers out of their profile (they left the clustering graph).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})-[old:BELONGS_TO]->(:Profile)
DELETE old
RETURN count(*)
