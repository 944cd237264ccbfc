// Current profile and all fellow members of the given identifiers.
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $keys AS k
MATCH (i:Identifier {type: k[0], value: k[1]})-[:BELONGS_TO]->(p)
MATCH (m)-[:BELONGS_TO]->(p)
RETURN DISTINCT m.type, m.value, p.profile_id, p.created_at
