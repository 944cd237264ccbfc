// The profile one identifier belongs to and its quarantine flag, without its
// activity: the first read of a look-up.
MATCH (i:Identifier {type: $type, value: $value})
OPTIONAL MATCH (i)-[:BELONGS_TO]->(p:Profile)
RETURN p.profile_id, i.quarantined
