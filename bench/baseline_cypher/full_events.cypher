// Baseline with properties: the same event nodes, properties and SEEN_IN relationships
// ingest writes, in the same shape (each event links its identifiers as it is created).
UNWIND $rows AS r
MERGE (e:Event {event_id: r.event_id})
SET e.ts = r.ts, e.source = r.source, e.type = r.type, e.user_agent = r.user_agent,
    e.amount = r.amount, e.currency = r.currency, e.traits = r.traits, e.properties = r.properties,
    e.ingest_sequence = 1
WITH e, r
UNWIND r.seen AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
MERGE (i)-[:SEEN_IN]->(e)
