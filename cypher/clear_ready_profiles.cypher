// Drop the ready documents of these profiles (erasure: they may hold erased values).
UNWIND $profile_ids AS id
MATCH (p:Profile {profile_id: id})
REMOVE p.ready_document
RETURN count(p)
