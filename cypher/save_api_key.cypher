// Create an API key record (only the key's hash is stored); fails on a taken name.
CREATE (k:ApiKey {name: $name, key_id: $key_id, hash: $hash, scopes: $scopes,
                  created_at: $now, expires_at: $expires_at})
RETURN k.name
