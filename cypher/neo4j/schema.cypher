// Constraints and indexes on Neo4j (one statement a line; IF NOT EXISTS makes them idempotent).
CREATE CONSTRAINT identifier_key IF NOT EXISTS FOR (i:Identifier) REQUIRE (i.type, i.value) IS UNIQUE
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.event_id IS UNIQUE
CREATE CONSTRAINT profile_id IF NOT EXISTS FOR (p:Profile) REQUIRE p.profile_id IS UNIQUE
CREATE INDEX identifier_type IF NOT EXISTS FOR (i:Identifier) ON (i.type)
CREATE INDEX event_ts IF NOT EXISTS FOR (e:Event) ON (e.ts)
CREATE CONSTRAINT tombstone_hash IF NOT EXISTS FOR (t:Tombstone) REQUIRE t.hash IS UNIQUE
CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:Meta) REQUIRE m.key IS UNIQUE
CREATE CONSTRAINT segment_id IF NOT EXISTS FOR (s:Segment) REQUIRE s.segment_id IS UNIQUE
CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.key_id IS UNIQUE
CREATE CONSTRAINT api_key_name IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.name IS UNIQUE
CREATE CONSTRAINT household_id IF NOT EXISTS FOR (h:Household) REQUIRE h.household_id IS UNIQUE
CREATE INDEX profile_household IF NOT EXISTS FOR (p:Profile) ON (p.household_id)
CREATE INDEX event_ingest_sequence IF NOT EXISTS FOR (e:Event) ON (e.ingest_sequence)
