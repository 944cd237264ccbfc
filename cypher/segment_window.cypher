// A window of profiles after $after in profile_id order, each with whether it is an
// active member of a segment; graph.segments composes the condition in (values are
// parameters). Paging by windows keeps each query's work bounded.
MATCH (p:Profile)
WHERE p.profile_id > $after
WITH p
ORDER BY p.profile_id
LIMIT $scan
RETURN p.profile_id, p.status IS NULL AND (true /* condition */)
ORDER BY p.profile_id
