// Profiles changed by the most recent resolves (merges, splits, new members).
// Lineage of merged and retired profile IDs arrives with the profile-integrity work.
MATCH (p:Profile)
WHERE p.updated_at IS NOT NULL
RETURN p.profile_id AS profile_id, p.size AS identifiers, p.created_at AS created_at,
       p.updated_at AS updated_at
ORDER BY updated_at DESC
LIMIT 25
