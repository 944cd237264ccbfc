// The first read of a look-up: the profile an identifier belongs to, its quarantine
// flag, and the profile's ready document with what it was built under (the
// profile's revision and the serving generation), next to their current values.
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (i:Identifier {type: $type, value: $value})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (m:Meta {key: $key})
RETURN p.profile_id, i.quarantined, p.ready_document, p.ready_revision, p.ready_generation,
       coalesce(p.revision, 0), coalesce(m.generation, 0)
