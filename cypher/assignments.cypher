// The current profile of every identifier that has one.
MATCH (i:Identifier)-[:BELONGS_TO]->(p:Profile)
RETURN i.type, i.value, p.profile_id
