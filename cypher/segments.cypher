// Every segment definition, by name.
MATCH (s:Segment)
RETURN s.segment_id, s.name, s.description, s.rule, s.created_at, s.updated_at
ORDER BY s.name, s.segment_id
