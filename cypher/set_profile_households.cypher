// Each profile's household and its size in profiles (rows: profile_id, household_id, size).
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
SET p.household_id = r.household_id, p.household_size = r.size
RETURN count(p)
