// Events the given identifiers were seen in, with every identifier of each event.
UNWIND $keys AS k
MATCH (:Identifier {type: k[0], value: k[1]})-[:SEEN_IN]->(e:Event)
WITH DISTINCT e
MATCH (i:Identifier)-[:SEEN_IN]->(e)
RETURN e.event_id, collect([i.type, i.value])
