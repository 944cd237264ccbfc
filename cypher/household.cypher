// One household: its node, its active profiles (ID, size) and its shared devices.
MATCH (h:Household {household_id: $household_id})
OPTIONAL MATCH (p:Profile {household_id: $household_id})
WHERE p.status IS NULL
WITH h, collect([p.profile_id, coalesce(p.size, 0)]) AS profiles
OPTIONAL MATCH (i:Identifier {household_id: $household_id})
RETURN properties(h), profiles, collect([i.type, i.value]) AS devices
