// Quarantine state and identity degree of identifiers (rows: type, value, quarantined, degree).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
SET i.quarantined = r.quarantined, i.degree = r.degree
RETURN count(*)
