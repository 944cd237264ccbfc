// Households that ceased to exist: retired, pointing to the one that took most of their
// profiles (null: none did). Rows: household_id, merged_into.
UNWIND $rows AS r
MATCH (h:Household {household_id: r.household_id})
WHERE h.status IS NULL
SET h.status = 'retired', h.merged_into = r.merged_into, h.retired_at = $now
RETURN count(h)
