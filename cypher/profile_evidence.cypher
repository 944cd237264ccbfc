// Weak identifiers (e.g. ip) observed with a profile's members: evidence, not members.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(:Identifier)-[o:OBSERVED_WITH]-(w:Identifier)
WHERE w.type IN $types
RETURN w.type, w.value, sum(o.count) AS count, min(o.first_seen), max(o.last_seen)
ORDER BY count DESC, w.value
LIMIT $limit
