// Lineage around one profile: profiles merged into it or split from it, and the
// other way round (one step each way; follow profile IDs for more).
MATCH (p:Profile {profile_id: $profile_id})
OPTIONAL MATCH (p)-[r:MERGED_INTO|SPLIT_FROM]-(other:Profile)
RETURN type(r), startNode(r).profile_id, endNode(r).profile_id, r.at
