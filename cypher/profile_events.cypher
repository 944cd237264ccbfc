// Activity summary of a profile: its distinct events, sources and span.
MATCH (p:Profile {profile_id: $profile_id})<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(e:Event)
WITH DISTINCT e
RETURN count(e), min(e.ts), max(e.ts), collect(DISTINCT e.source)
