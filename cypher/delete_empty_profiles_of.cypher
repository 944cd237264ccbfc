// The given active profiles, if they were left with no member (real-time path).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $ids AS id
MATCH (p:Profile {profile_id: id})
WHERE p.status IS NULL AND NOT (p)<-[:BELONGS_TO]-()
DETACH DELETE p
RETURN count(*)
