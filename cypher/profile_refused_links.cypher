// Links resolution refused between a profile's members and any identifier (inside
// or outside the profile), with the other side's quarantine flag and profile.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(a:Identifier)-[r:REFUSED]-(b:Identifier)
OPTIONAL MATCH (b)-[:BELONGS_TO]->(q:Profile)
RETURN a.type, a.value, b.type, b.value, r.kind, r.reason, b.quarantined, q.profile_id
ORDER BY a.type, a.value, b.type, b.value
LIMIT $limit
