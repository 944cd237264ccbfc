// Profile: all identifiers of one profile and the observation links between them.
// Set the parameter first, e.g.  :param profile_id => 'prf_0123456789abcdef0123'
MATCH (p:Profile {profile_id: $profile_id})<-[b:BELONGS_TO]-(i:Identifier)
OPTIONAL MATCH (i)-[o:OBSERVED_WITH]-(j:Identifier)-[:BELONGS_TO]->(p)
RETURN p, b, i, o, j
