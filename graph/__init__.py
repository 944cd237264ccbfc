"""The identity graph, in the order data flows through it.

- :mod:`graph.store`: the store contract (a runner and one repository per concept),
  its record types, and the FalkorDB and Neo4j adapters; the embedded server.
- :mod:`graph.ingest`: identifiers and their normalization, event parsing, readers,
  the batched idempotent ingester, Segment messages, tombstones of erased values.
- :mod:`graph.profiles`: what a profile knows: facts, RFM scores, segment rules.
- :mod:`graph.resolve`: clustering, merge protection, resolution with stable IDs and
  lineage, erasure.

Layers (import-linter, pyproject.toml): resolve -> profiles -> ingest -> store; the
leaf modules :mod:`graph.errors` and :mod:`graph.privacy` may be imported by any.
"""
