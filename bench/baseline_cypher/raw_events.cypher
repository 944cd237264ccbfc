// Baseline: the same event nodes.
UNWIND $rows AS r
MERGE (:Event {event_id: r.event_id})
