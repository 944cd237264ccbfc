// Observation links between members of one profile, with their evidence.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(a:Identifier)-[o:OBSERVED_WITH]->(b:Identifier)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (a)-[r:REFUSED]-(b)
RETURN a.type, a.value, b.type, b.value, o.count, o.first_seen, o.last_seen, o.sources, r IS NOT NULL
