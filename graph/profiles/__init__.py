"""What a profile knows beyond its identifiers: facts from its events, RFM scores and
groups, segment rules compiled to Cypher. Imports the store and ingest."""
