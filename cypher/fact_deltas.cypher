// The events of ingest batches after $since and up to $until, per active profile whose
// stored facts they can be added to (graph/profiles/facts.py): its facts count every
// event of its members up to facts_sequence (at least $since) and were counted for
// its current members (facts_members = members_version: no change of members or
// erased event since). Aggregated as fact_inputs aggregates, only the events after the
// profile's facts_sequence, with the stored facts they are added to. Starts from the
// new events (index on ingest_sequence), so it costs what was ingested, not the
// profiles' whole history.
// Nodes reached over a relationship carry no label (docs/architecture.md).
WITH timestamp() AS read_at
MATCH (e:Event)
WHERE e.ingest_sequence > $since AND e.ingest_sequence <= $until
WITH read_at, e
MATCH (i)-[:SEEN_IN]->(e)
MATCH (i)-[:BELONGS_TO]->(p)
WHERE p.status IS NULL AND p.facts_sequence >= $since AND e.ingest_sequence > p.facts_sequence
  AND p.facts_members = coalesce(p.members_version, 0)
WITH DISTINCT read_at, p, e
WITH read_at, p, e.type AS type, count(e) AS n, min(e.ts) AS first, max(e.ts) AS last,
  collect(DISTINCT e.source) AS sources,
  collect(CASE WHEN e.type IN $purchase_types THEN [e.ts, e.amount, e.currency] END) AS buys,
  collect(CASE WHEN e.traits IS NOT NULL THEN [e.ts, e.traits] END) AS traits
RETURN p.profile_id, p.trait_keys, sum(n), min(first), max(last),
  collect(sources), collect([type, n]), collect(buys), collect(traits), read_at,
  $until, coalesce(p.members_version, 0), p.facts_sequence, p.facts_at,
  [p.event_count, p.first_seen, p.last_seen, p.sources, p.events_by_type, p.purchase_count,
   p.purchase_amounts, p.purchase_sum, p.last_purchase, p.currencies, p.traits]
