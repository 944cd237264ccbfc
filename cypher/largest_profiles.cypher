// The largest active profiles (graph health).
MATCH (p:Profile)
WHERE p.status IS NULL
RETURN p.profile_id, coalesce(p.size, 0) AS size
ORDER BY size DESC, p.profile_id
LIMIT $limit
