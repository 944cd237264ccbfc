// Move identifiers to (possibly new) profiles; replaces any previous BELONGS_TO.
// Both profiles count a change of members (members_version, in the same statement):
// facts computed for other members cannot be added to (graph/profiles/facts.py).
// Nodes reached over a relationship carry no label (docs/architecture.md).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
OPTIONAL MATCH (i)-[old:BELONGS_TO]->(was)
SET was.members_version = coalesce(was.members_version, 0) + 1
DELETE old
WITH DISTINCT i, r
MERGE (p:Profile {profile_id: r.profile_id})
  ON CREATE SET p.created_at = $now
SET p.updated_at = $now, p.members_version = coalesce(p.members_version, 0) + 1
CREATE (i)-[:BELONGS_TO]->(p)
RETURN count(*)
