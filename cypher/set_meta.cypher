// Store one graph-wide value (JSON text) under a key.
MERGE (m:Meta {key: $key})
SET m.value = $value
RETURN m.key
