// A few events two identifiers were seen in together (evidence for explanations).
MATCH (a:Identifier {type: $a_type, value: $a_value})-[:SEEN_IN]->(e:Event)<-[:SEEN_IN]-(b:Identifier {type: $b_type, value: $b_value})
RETURN e.event_id
ORDER BY e.ts
LIMIT $limit
