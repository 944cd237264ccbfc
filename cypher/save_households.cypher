// Active households: size, homes, lineage (rows: household_id, size, homes, split_from).
UNWIND $rows AS r
MERGE (h:Household {household_id: r.household_id})
ON CREATE SET h.created_at = $now
SET h.status = null, h.merged_into = null, h.size = r.size, h.homes = r.homes,
    h.split_from = coalesce(h.split_from, r.split_from), h.updated_at = $now
RETURN count(h)
