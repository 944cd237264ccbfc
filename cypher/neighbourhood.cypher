// Links of the given identifiers (keys as [type, value]) to identifiers of $types, both
// directions: observation edges (weight: co-observations) and stored model links
// (weight: score), in one traversal; observation edges say when (first, last seen).
// WITH pins the plan: start at the given identifiers and traverse (without it the
// planner may scan every identifier of $types through the type index instead).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})
WITH i
MATCH (i)-[o:OBSERVED_WITH|MODEL_LINK]-(j)
WHERE j.type IN $types
RETURN i.type, i.value, j.type, j.value, type(o), coalesce(o.count, o.score), o.first_seen,
  o.last_seen
