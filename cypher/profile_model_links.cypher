// Model links between members of one profile, with score and model version.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(a:Identifier)-[m:MODEL_LINK]->(b:Identifier)-[:BELONGS_TO]->(p)
RETURN a.type, a.value, b.type, b.value, m.score, m.model_version
