// Identifiers in quarantine now (flagged by resolution, or forced by an operator).
MATCH (i:Identifier)
WHERE i.quarantined = true
RETURN count(i)
