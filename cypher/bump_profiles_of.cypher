// The ready documents of the profiles these identifiers belong to go stale (new events).
// A store without profiles (a first bulk ingest, before any resolve) has nothing to
// mark: the first line finds no profile and the identifiers are not looked up (in such
// an ingest their look-ups were a fifth of the store's work; docs/benchmarks.md).
// Nodes reached over a relationship carry no label (docs/architecture.md).
MATCH (one:Profile)
WITH one LIMIT 1
UNWIND $keys AS k
MATCH (:Identifier {type: k[0], value: k[1]})-[:BELONGS_TO]->(p)
WITH DISTINCT p
SET p.revision = coalesce(p.revision, 0) + 1
RETURN count(p)
