// One API key record by its public ID (the hash is compared by the caller).
MATCH (k:ApiKey {key_id: $key_id})
RETURN k.name, k.key_id, k.hash, k.scopes, k.created_at, k.expires_at, k.revoked_at,
       k.last_used_at
