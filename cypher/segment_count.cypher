// How many active profiles meet a segment's condition (composed in by graph.segments).
// The condition is projected, not filtered in MATCH ... WHERE: FalkorDB cannot place
// a pattern comprehension in a MATCH filter.
MATCH (p:Profile)
WHERE p.status IS NULL
WITH p, (true /* condition */) AS member
WHERE member
RETURN count(p)
