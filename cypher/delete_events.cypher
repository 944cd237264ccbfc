// Erase events (and their SEEN_IN relationships).
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
DETACH DELETE e
RETURN count(*)
