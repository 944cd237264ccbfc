// Shared devices (quarantined, in no profile) that belong to a household (rows: type, value, household_id).
UNWIND $rows AS r
MATCH (i:Identifier {type: r.type, value: r.value})
SET i.household_id = r.household_id
RETURN count(i)
