"""The store contract: the one interface ingest, resolution, API and CLI use.

:class:`GraphStore` is the runner (:mod:`graph.store.runner`: the hooks each
backend adapter implements) with one repository per concept, each in its own
module with the Cypher files it runs (``QUERIES``). No caller knows which store it
talks to; record types live in :mod:`graph.store.records`.
"""

from __future__ import annotations

from graph.store.clusters import ClusterRepository
from graph.store.erasure import ErasureRepository
from graph.store.facts import FactRepository
from graph.store.households import HouseholdRepository
from graph.store.keys import KeyRepository
from graph.store.metadata import MetadataRepository
from graph.store.observations import ObservationRepository
from graph.store.profiles import ProfileRepository
from graph.store.quarantine import QuarantineRepository
from graph.store.runner import StoreRunner
from graph.store.samples import SampleRepository
from graph.store.scope import ScopeRepository
from graph.store.segments import SegmentRepository
from graph.store.serving import ServingRepository

__all__ = ["REPOSITORIES", "GraphStore"]


class GraphStore(
    ObservationRepository,
    ProfileRepository,
    FactRepository,
    SegmentRepository,
    QuarantineRepository,
    ErasureRepository,
    KeyRepository,
    MetadataRepository,
    HouseholdRepository,
    ClusterRepository,
    ServingRepository,
    ScopeRepository,
    SampleRepository,
):
    """What every graph store offers; adapters implement the runner's hooks."""


#: every repository, in the order they are mixed into :class:`GraphStore`
REPOSITORIES: tuple[type[StoreRunner], ...] = GraphStore.__bases__
