// Active profiles whose stored facts are not current: none yet, computed before their
// members last changed, or missing events of ingest batches after $since up to $until
// (the stored facts of every other profile count all its events up to $since: the
// last resolve's). The profiles a full resolve that follows change refreshes
// (graph/resolve/resolution.py). Nodes reached over a relationship carry no label
// (docs/architecture.md).
MATCH (p:Profile)
WHERE p.status IS NULL
  AND (p.facts_at IS NULL OR coalesce(p.members_changed_at, 0) >= p.facts_at)
RETURN p.profile_id
UNION
MATCH (e:Event)
WHERE e.ingest_sequence > $since AND e.ingest_sequence <= $until
WITH e
MATCH (i)-[:SEEN_IN]->(e)
MATCH (i)-[:BELONGS_TO]->(p)
WHERE p.status IS NULL AND e.ingest_sequence > coalesce(p.facts_sequence, -1)
RETURN p.profile_id
