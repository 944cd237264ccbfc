// Up to $limit active members of a segment, the first found, in no particular order:
// a preview that stops as soon as it has them (paging in profile_id order sorts every
// profile first). The condition is composed in by graph.segments (values are parameters).
MATCH (p:Profile)
WHERE p.status IS NULL
WITH p, (true /* condition */) AS member
WHERE member
RETURN p.profile_id
LIMIT $limit
