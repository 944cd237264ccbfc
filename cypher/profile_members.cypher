// A profile and its member identifiers, with each member's activity.
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (p:Profile {profile_id: $profile_id})
MATCH (i)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (i)-[:SEEN_IN]->(e)
RETURN p.created_at, p.updated_at, i.type, i.value, min(e.ts), max(e.ts), count(e), i.quarantined,
       collect(DISTINCT e.source)
ORDER BY i.type, i.value
