// Delete a segment definition; returns how many were deleted (0 or 1).
MATCH (s:Segment {segment_id: $segment_id})
DELETE s
RETURN count(*)
