"""Events in: identifier types and normalization, event parsing, file readers, the
batched idempotent ingester, Segment/RudderStack messages, and the tombstones that
keep erased values out. Imports the store, never resolution or profiles."""
