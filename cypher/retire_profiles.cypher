// Profiles merged into others: kept as retired nodes pointing to their survivor.
UNWIND $rows AS r
MATCH (old:Profile {profile_id: r.profile_id})
MATCH (survivor:Profile {profile_id: r.merged_into})
SET old.status = 'retired', old.merged_into = r.merged_into, old.retired_at = $now, old.size = 0
MERGE (old)-[m:MERGED_INTO]->(survivor)
  ON CREATE SET m.at = $now
RETURN count(*)
