// The lowest model-link score within each of the given profiles (confidence-aware
// member lists and exports: only profiles with a link below the asked confidence are
// re-clustered).
UNWIND $ids AS pid
MATCH (p:Profile {profile_id: pid})<-[:BELONGS_TO]-(:Identifier)-[m:MODEL_LINK]->(:Identifier)-[:BELONGS_TO]->(p)
RETURN pid, min(m.score)
