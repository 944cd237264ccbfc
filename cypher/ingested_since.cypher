// The identifiers of the given types seen in events of ingest batches after $since
// (events are stamped with their batch's sequence number; indexed).
MATCH (e:Event)
WHERE e.ingest_sequence > $since
MATCH (i:Identifier)-[:SEEN_IN]->(e)
WHERE i.type IN $types
RETURN DISTINCT i.type, i.value
