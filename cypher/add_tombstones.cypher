// Salted hashes of erased values: replayed events cannot bring them back.
UNWIND $hashes AS h
MERGE (t:Tombstone {hash: h})
  ON CREATE SET t.erased_at = $now
RETURN count(*)
