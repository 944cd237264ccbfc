// One segment definition.
MATCH (s:Segment {segment_id: $segment_id})
RETURN s.segment_id, s.name, s.description, s.rule, s.created_at, s.updated_at
