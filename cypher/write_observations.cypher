// One ingest batch, atomically: identifiers, events, who was seen in which event,
// and the observation edges between identifiers seen together.
// Rows are already de-duplicated and aggregated by the caller; edges point from the
// smaller (type, value) key to the larger, so each pair has one edge.
// Identifier nodes are only merged, never updated: an identifier's first/last seen and
// event count are read from its SEEN_IN events (updating matched nodes on every batch
// made the whole write 48% slower; see docs/architecture.md).
// Each batch takes the next ingest sequence number, in the same write, and stamps
// its events with it: an incremental resolve re-plans the identifiers of the events
// after the sequence number it last resolved (graph/resolve/changes.py).
UNWIND $identifiers AS r
MERGE (i:Identifier {type: r.type, value: r.value})
WITH count(*) AS identifiers
MERGE (m:Meta {key: $sequence_key})
SET m.sequence = coalesce(m.sequence, 0) + 1
WITH identifiers, m.sequence AS sequence
UNWIND $events AS r
CREATE (e:Event {event_id: r.event_id, ts: r.ts, source: r.source, type: r.type,
                 ingest_sequence: sequence})
SET e.user_agent = r.user_agent, e.amount = r.amount, e.currency = r.currency,
    e.traits = r.traits, e.properties = r.properties
WITH identifiers, e, r
UNWIND r.seen AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
CREATE (i)-[:SEEN_IN]->(e)
WITH identifiers, count(DISTINCT e) AS events, count(*) AS seen
UNWIND $edges AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MERGE (a)-[o:OBSERVED_WITH]->(b)
  ON CREATE SET o.count = r.count, o.first_seen = r.first_seen, o.last_seen = r.last_seen,
    o.sources = r.sources
  ON MATCH SET
    o.count = o.count + r.count,
    o.first_seen = CASE WHEN r.first_seen < o.first_seen THEN r.first_seen ELSE o.first_seen END,
    o.last_seen = CASE WHEN r.last_seen > o.last_seen THEN r.last_seen ELSE o.last_seen END,
    o.sources = o.sources + [s IN r.sources WHERE NOT s IN o.sources]
RETURN identifiers, events, seen, count(*) AS edges
