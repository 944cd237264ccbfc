// Profile -> household as last planned (stable household IDs).
MATCH (p:Profile)
WHERE p.status IS NULL AND p.household_id IS NOT NULL
RETURN p.profile_id, p.household_id
