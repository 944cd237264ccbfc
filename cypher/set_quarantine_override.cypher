// Force or release quarantine for one identifier (null clears the override).
MATCH (i:Identifier {type: $type, value: $value})
SET i.quarantine_override = $override
RETURN count(i)
