// The ready documents of these profiles go stale (their members, events or facts changed).
UNWIND $profile_ids AS id
MATCH (p:Profile {profile_id: id})
SET p.revision = coalesce(p.revision, 0) + 1
RETURN count(p)
