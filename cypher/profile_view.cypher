// A profile as the API shows it, in one read (one round trip instead of five):
// its stored properties (status, facts, RFM, lineage), its members with each one's
// activity, the span, count and sources of its distinct events, the newest events
// that carried traits, and the weak identifiers seen with its members (evidence).
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (p:Profile {profile_id: $profile_id})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (i)-[:SEEN_IN]->(e)
WITH p, i, min(e.ts) AS first, max(e.ts) AS last, count(e) AS seen,
     collect(DISTINCT e.source) AS sources
ORDER BY i.type, i.value
WITH p, collect(CASE WHEN i IS NULL THEN null
                ELSE [i.type, i.value, first, last, seen, i.quarantined, sources] END) AS members
OPTIONAL MATCH (p)<-[:BELONGS_TO]-()-[:SEEN_IN]->(e)
WITH DISTINCT p, members, e
WITH p, members, count(e) AS events, min(e.ts) AS first, max(e.ts) AS last,
     collect(DISTINCT e.source) AS sources,
     collect(CASE WHEN e.traits IS NULL THEN null ELSE [e.ts, e.traits] END) AS traits
OPTIONAL MATCH (p)<-[:BELONGS_TO]-()-[o:OBSERVED_WITH]-(w)
WHERE w.type IN $types
WITH p, members, events, first, last, sources, traits, w, sum(o.count) AS count,
     min(o.first_seen) AS w_first, max(o.last_seen) AS w_last
ORDER BY count DESC, w.value
WITH p, members, events, first, last, sources, traits,
     collect(CASE WHEN w IS NULL THEN null
             ELSE [w.type, w.value, count, w_first, w_last] END)[..$limit] AS evidence
RETURN p {.*, ready_document: null}, members, events, first, last, sources, traits, evidence
