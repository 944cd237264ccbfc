// Active profiles whose stored facts are not current: none yet, counted for other
// members (facts_members is not the profile's members_version), or missing events of
// ingest batches after $since up to $until (the stored facts of every other profile
// count all its events up to $since: the last resolve's). The profiles a full
// resolve that follows change refreshes (graph/resolve/resolution.py). Nodes reached
// over a relationship carry no label (docs/architecture.md).
MATCH (p:Profile)
WHERE p.status IS NULL
  AND (p.facts_at IS NULL OR p.facts_members IS NULL
    OR p.facts_members <> coalesce(p.members_version, 0))
RETURN p.profile_id
UNION
MATCH (e:Event)
WHERE e.ingest_sequence > $since AND e.ingest_sequence <= $until
WITH e
MATCH (i)-[:SEEN_IN]->(e)
MATCH (i)-[:BELONGS_TO]->(p)
WHERE p.status IS NULL AND e.ingest_sequence > coalesce(p.facts_sequence, -1)
RETURN p.profile_id
