// Move identifiers to (possibly new) profiles; replaces any previous BELONGS_TO.
// Both profiles note when their members changed (members_changed_at, the store's
// clock): facts computed before then cannot be added to (graph/profiles/facts.py).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
OPTIONAL MATCH (i)-[old:BELONGS_TO]->(was)
SET was.members_changed_at = timestamp()
DELETE old
WITH DISTINCT i, r
MERGE (p:Profile {profile_id: r.profile_id})
  ON CREATE SET p.created_at = $now
SET p.updated_at = $now, p.members_changed_at = timestamp()
CREATE (i)-[:BELONGS_TO]->(p)
RETURN count(*)
