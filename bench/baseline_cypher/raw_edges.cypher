// Baseline: the same identifier-identifier relationships.
UNWIND $rows AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MERGE (a)-[:OBSERVED_WITH]->(b)
