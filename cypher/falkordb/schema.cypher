// Indexes FalkorDB needs (one statement a line; existing ones are skipped).
// Unique constraints are created through GRAPH.CONSTRAINT by the adapter, on these indexes.
CREATE INDEX FOR (i:Identifier) ON (i.type, i.value)
CREATE INDEX FOR (e:Event) ON (e.event_id)
CREATE INDEX FOR (p:Profile) ON (p.profile_id)
CREATE INDEX FOR (t:Tombstone) ON (t.hash)
CREATE INDEX FOR (m:Meta) ON (m.key)
CREATE INDEX FOR (s:Segment) ON (s.segment_id)
CREATE INDEX FOR (k:ApiKey) ON (k.key_id)
CREATE INDEX FOR (k:ApiKey) ON (k.name)
CREATE INDEX FOR (h:Household) ON (h.household_id)
CREATE INDEX FOR (p:Profile) ON (p.household_id)
CREATE INDEX FOR (e:Event) ON (e.ingest_sequence)
