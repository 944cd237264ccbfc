// Record when a key was last used.
MATCH (k:ApiKey {key_id: $key_id})
SET k.last_used_at = $now
RETURN k.key_id
