// Whether a profile is active or retired, and where a retired one went.
MATCH (p:Profile {profile_id: $profile_id})
RETURN p.status, p.merged_into, p.split_from, p.created_at, p.retired_at
