// Which members each weak identifier (e.g. an IP) of a profile was observed with.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(m:Identifier)-[o:OBSERVED_WITH]-(w:Identifier)
WHERE w.type IN $types
RETURN m.type, m.value, w.type, w.value, o.count, o.first_seen, o.last_seen
ORDER BY o.count DESC, w.value
LIMIT $limit
