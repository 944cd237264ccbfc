// One identifier, its activity (from its events), its profile and quarantine state.
MATCH (i:Identifier {type: $type, value: $value})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p:Profile)
OPTIONAL MATCH (i)-[:SEEN_IN]->(e:Event)
RETURN min(e.ts), max(e.ts), count(e), p.profile_id, i.quarantined, i.degree
