// Every tombstone hash (checked by ingest).
MATCH (t:Tombstone)
RETURN t.hash
