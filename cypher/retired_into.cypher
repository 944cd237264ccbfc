// Retired profiles that were merged, directly or not, into one profile.
MATCH (old:Profile)-[:MERGED_INTO*1..50]->(:Profile {profile_id: $profile_id})
RETURN DISTINCT old.profile_id
