// Links resolution did not apply, with the reason (merge limit, quarantine).
UNWIND $rows AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MERGE (a)-[x:REFUSED]->(b)
SET x.reason = r.reason, x.kind = r.kind, x.at = $now
RETURN count(*)
