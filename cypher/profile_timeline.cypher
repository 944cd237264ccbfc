// The most recent events of a profile's members (a support desk's timeline).
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(e:Event)
WITH DISTINCT e
RETURN e.event_id, e.ts, e.type, e.source, e.amount, e.currency
ORDER BY e.ts DESC, e.event_id
LIMIT $limit
