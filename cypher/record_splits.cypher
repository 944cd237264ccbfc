// New profiles split off an existing one: remember where they came from.
UNWIND $rows AS r
MATCH (part:Profile {profile_id: r.profile_id})
MATCH (origin:Profile {profile_id: r.split_from})
SET part.split_from = r.split_from
MERGE (part)-[s:SPLIT_FROM]->(origin)
  ON CREATE SET s.at = $now
RETURN count(*)
