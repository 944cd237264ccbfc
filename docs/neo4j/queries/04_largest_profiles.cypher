// The largest profiles: where over-merging shows first.
MATCH (p:Profile)
RETURN p.profile_id AS profile_id, p.size AS identifiers, p.updated_at AS updated_at
ORDER BY identifiers DESC
LIMIT 25
