// The sequence number of the last ingest batch (write_observations takes the next).
MATCH (m:Meta {key: $key})
RETURN m.sequence
