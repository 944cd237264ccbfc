// Revoke a key by name (kept, for the audit trail); returns the keys revoked now.
MATCH (k:ApiKey {name: $name})
WHERE k.revoked_at IS NULL
SET k.revoked_at = $now
RETURN k.name
