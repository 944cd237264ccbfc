"""Identifiers to profiles: clustering, merge protection and quarantine, resolution
with stable IDs and lineage (full and real time), erasure. The top layer of graph/."""
