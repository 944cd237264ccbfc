// The given active profiles, if they were left with no member (real-time path).
UNWIND $ids AS id
MATCH (p:Profile {profile_id: id})
WHERE p.status IS NULL AND NOT (p)<-[:BELONGS_TO]-(:Identifier)
DETACH DELETE p
RETURN count(*)
