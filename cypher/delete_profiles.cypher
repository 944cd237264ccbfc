// Delete profile nodes by ID (erasure of a profile and its former IDs).
UNWIND $ids AS id
MATCH (p:Profile {profile_id: id})
DETACH DELETE p
RETURN count(*)
