// The most recent events of a profile that carried traits, newest first.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(e:Event)
WHERE e.traits IS NOT NULL
WITH DISTINCT e
RETURN e.ts, e.traits
ORDER BY e.ts DESC
LIMIT $limit
