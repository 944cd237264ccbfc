// Every stored property of one profile (facts and RFM scores).
MATCH (p:Profile {profile_id: $profile_id})
RETURN p {.*, ready_document: null}
