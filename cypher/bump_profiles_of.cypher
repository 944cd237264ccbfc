// The ready documents of the profiles these identifiers belong to go stale (new events).
UNWIND $keys AS k
MATCH (:Identifier {type: k[0], value: k[1]})-[:BELONGS_TO]->(p:Profile)
WITH DISTINCT p
SET p.revision = coalesce(p.revision, 0) + 1
RETURN count(p)
