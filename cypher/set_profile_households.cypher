// Each profile's household (rows: profile_id, household_id).
UNWIND $rows AS r
MATCH (p:Profile {profile_id: r.profile_id})
SET p.household_id = r.household_id
RETURN count(p)
