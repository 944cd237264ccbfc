// The member identifiers of one profile.
MATCH (i:Identifier)-[:BELONGS_TO]->(:Profile {profile_id: $profile_id})
RETURN i.type, i.value
