// Manual quarantine decisions: 'force' or 'release'.
MATCH (i:Identifier)
WHERE i.quarantine_override IS NOT NULL
RETURN i.type, i.value, i.quarantine_override
