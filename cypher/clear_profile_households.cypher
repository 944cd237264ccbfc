// Forget every profile's and device's household (a full household plan follows).
MATCH (n)
WHERE (n:Profile OR n:Identifier) AND n.household_id IS NOT NULL
SET n.household_id = null, n.household_size = null
RETURN count(n)
