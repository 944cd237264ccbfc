// What the facts of the given active profiles are computed from: their distinct events,
// aggregated (counts, span, sources, events by type, purchases, events with traits),
// the store's clock when they were read (the facts' version, see write_profile_facts;
// taken once, before the aggregation, so it is one grouping value for the whole query),
// the ingest sequence then (the events of batches up to it are the ones counted) and
// the profile's members_version (the members they were counted for).
// With $add, a profile whose stored facts count every event of its current members up
// to their facts_sequence (facts_members = members_version) gets only its later events
// (`after`: that sequence), with the stored facts they are added to
// (graph/profiles/facts.py); the others (after null) all their events. The events are
// still reached through the members, but only the later ones are aggregated.
// No labels on the traversed nodes: the relationship types say what they are, and a
// label check is one more matrix operation in FalkorDB (docs/architecture.md).
WITH timestamp() AS read_at
OPTIONAL MATCH (m:Meta {key: $sequence_key})
WITH read_at, coalesce(m.sequence, 0) AS sequence
UNWIND $ids AS pid
MATCH (p:Profile {profile_id: pid})
WHERE p.status IS NULL
WITH read_at, sequence, p,
  CASE WHEN $add AND p.facts_sequence IS NOT NULL
    AND p.facts_members = coalesce(p.members_version, 0) THEN p.facts_sequence END AS after
OPTIONAL MATCH (p)<-[:BELONGS_TO]-()-[:SEEN_IN]->(e)
WHERE coalesce(e.ingest_sequence, 0) <= sequence
  AND (after IS NULL OR coalesce(e.ingest_sequence, 0) > after)
WITH DISTINCT read_at, sequence, p, after, e
// counted per event type first: a row carries a few types' counts, not every event's type
WITH read_at, sequence, p, after, e.type AS type, count(e) AS n, min(e.ts) AS first,
  max(e.ts) AS last, collect(DISTINCT e.source) AS sources,
  collect(CASE WHEN e.type IN $purchase_types THEN [e.ts, e.amount, e.currency] END) AS buys,
  collect(CASE WHEN e.traits IS NOT NULL THEN [e.ts, e.traits] END) AS traits
RETURN p.profile_id, p.trait_keys, sum(n), min(first), max(last),
  collect(sources), collect([type, n]), collect(buys), collect(traits), read_at, sequence,
  coalesce(p.members_version, 0), after, p.facts_at,
  CASE WHEN after IS NOT NULL THEN
    [p.event_count, p.first_seen, p.last_seen, p.sources, p.events_by_type,
     p.purchase_count, p.purchase_amounts, p.purchase_sum, p.last_purchase, p.currencies,
     p.traits] END
