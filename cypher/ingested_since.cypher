// The identifiers of the given types seen in events of ingest batches after $since
// (events are stamped with their batch's sequence number; indexed), with their
// current profile, and whether they must be re-planned: an identifier seen alone (no
// other identifier of these types in any of those events) that is already in a
// profile gained no link, so its profile is what a resolve would make it; only
// that profile's facts change.
// WITH e: the plan starts from the events (index on ingest_sequence); without it,
// FalkorDB started from every identifier of these types (0.34 s against 0.03 s at 80k
// identifiers, growing with the graph).
MATCH (e:Event)
WHERE e.ingest_sequence > $since
WITH e
MATCH (i:Identifier)-[:SEEN_IN]->(e)
WHERE i.type IN $types
WITH e, collect(i) AS seen
UNWIND seen AS i
WITH i, max(size(seen)) AS together
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p:Profile)
RETURN i.type, i.value, together > 1 OR p IS NULL, p.profile_id
