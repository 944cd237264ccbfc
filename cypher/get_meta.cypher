// One graph-wide value by key.
MATCH (m:Meta {key: $key})
RETURN m.value
