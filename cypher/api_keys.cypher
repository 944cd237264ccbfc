// Every API key record, by name.
MATCH (k:ApiKey)
RETURN k.name, k.key_id, k.hash, k.scopes, k.created_at, k.expires_at, k.revoked_at,
       k.last_used_at
ORDER BY k.name
