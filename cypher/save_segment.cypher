// Create or replace a segment definition.
MERGE (s:Segment {segment_id: $segment_id})
  ON CREATE SET s.created_at = $now
SET s.name = $name, s.description = $description, s.rule = $rule, s.updated_at = $now
RETURN s.created_at
