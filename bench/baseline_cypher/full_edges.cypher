// Baseline with properties: the same identifier-identifier relationships and counters.
UNWIND $rows AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MERGE (a)-[o:OBSERVED_WITH]->(b)
SET o.count = coalesce(o.count, 0) + r.count, o.last_seen = r.last_seen,
    o.first_seen = coalesce(o.first_seen, r.first_seen), o.sources = r.sources
