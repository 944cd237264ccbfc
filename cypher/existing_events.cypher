// Which of these event IDs are already stored (idempotent ingest).
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
RETURN e.event_id
