// What the facts of some identifiers (the part of a profile that stands at a chosen
// confidence, app/confidence.py) are computed from: their distinct events, aggregated
// as fact_inputs aggregates a whole profile's (no ingest sequence: these facts are
// shown, never stored). No row when they were seen in no event.
// Nodes reached over a relationship carry no label (docs/architecture.md).
WITH timestamp() AS read_at
UNWIND $keys AS k
MATCH (:Identifier {type: k[0], value: k[1]})-[:SEEN_IN]->(e)
WITH DISTINCT read_at, e
WITH read_at, e.type AS type, count(e) AS n, min(e.ts) AS first, max(e.ts) AS last,
  collect(DISTINCT e.source) AS sources,
  collect(CASE WHEN e.type IN $purchase_types THEN [e.ts, e.amount, e.currency] END) AS buys,
  collect(CASE WHEN e.traits IS NOT NULL THEN [e.ts, e.traits] END) AS traits
RETURN $profile_id, [], sum(n), min(first), max(last),
  collect(sources), collect([type, n]), collect(buys), collect(traits), read_at, null
