// Creation time of every active profile (for "oldest wins" when profiles merge).
MATCH (p:Profile)
WHERE p.status IS NULL
RETURN p.profile_id, p.created_at
