"""The store contract, its record types and adapters.

:class:`GraphStore` is a small runner (read, write, schema, ping, close:
:mod:`graph.store.runner`) with one repository per concept, each in its own module
and naming the Cypher files it uses. The adapters (:mod:`graph.store.falkordb_store`,
:mod:`graph.store.neo4j_store`) implement the runner's hooks. The bottom layer of
graph/: it imports nothing above it.
"""

from graph.store.contract import GraphStore
from graph.store.records import ApiKeyRecord, IdentifierRecord, ObservationBatch, ProfileRecord

__all__ = ["ApiKeyRecord", "GraphStore", "IdentifierRecord", "ObservationBatch", "ProfileRecord"]
