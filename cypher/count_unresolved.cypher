// Identifiers of the given types that belong to no profile yet.
MATCH (i:Identifier)
WHERE i.type IN $types AND NOT (i)-[:BELONGS_TO]->(:Profile)
RETURN count(i)
