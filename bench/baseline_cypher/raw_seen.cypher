// Baseline: the same identifier-event relationships.
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
MATCH (e:Event {event_id: r.event_id})
MERGE (i)-[:SEEN_IN]->(e)
