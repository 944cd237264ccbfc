// Model-scored links that were accepted, with their score and model version.
UNWIND $rows AS r
MATCH (a:Identifier {type: r.a_type, value: r.a_value})
MATCH (b:Identifier {type: r.b_type, value: r.b_value})
MERGE (a)-[m:MODEL_LINK]->(b)
SET m.score = r.score, m.model_version = r.model_version, m.at = $now
RETURN count(*)
