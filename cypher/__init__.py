"""Cypher query files, loaded by name through :mod:`graph.store.queries`."""
