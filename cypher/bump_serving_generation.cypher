// Every ready profile document goes stale: a write changed profiles in bulk.
MERGE (m:Meta {key: $key})
SET m.generation = coalesce(m.generation, 0) + 1
RETURN m.generation
