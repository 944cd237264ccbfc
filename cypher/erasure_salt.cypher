// The salt of tombstone hashes, created once per graph (shared by every process).
MERGE (m:Meta {key: 'erasure_salt'})
  ON CREATE SET m.value = $candidate
RETURN m.value
