// Quarantined identifiers and manual overrides, most linked first.
MATCH (i:Identifier)
WHERE i.quarantined = true OR i.quarantine_override IS NOT NULL
RETURN i.type, i.value, i.degree, i.quarantined, i.quarantine_override
ORDER BY i.degree DESC, i.type, i.value
LIMIT $limit
