// Strong links of the given identifiers (keys as [type, value]), both directions.
// WITH pins the plan: start at the given identifiers and traverse (without it the
// planner may scan every identifier of $types through the type index instead).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[o:OBSERVED_WITH]-(j:Identifier)
WHERE j.type IN $types
RETURN i.type, i.value, j.type, j.value, o.count
