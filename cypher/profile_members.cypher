// A profile and its member identifiers, with each member's activity.
MATCH (p:Profile {profile_id: $profile_id})
MATCH (i:Identifier)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (i)-[:SEEN_IN]->(e:Event)
RETURN p.created_at, p.updated_at, i.type, i.value, min(e.ts), max(e.ts), count(e), i.quarantined,
       collect(DISTINCT e.source)
ORDER BY i.type, i.value
