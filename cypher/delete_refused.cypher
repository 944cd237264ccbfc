// Forget refused links (rows: a_type, a_value, b_type, b_value; a -> b as stored) that
// a re-plan no longer refuses.
UNWIND $rows AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MATCH (a)-[x:REFUSED]->(b)
DELETE x
RETURN count(*)
