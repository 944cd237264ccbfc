"""Opening what a process needs once (store, Redis, identifier registry) and closing it.

The CLI, the API and rq jobs all go through :func:`open_resources`; views and
jobs never open their own connections.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis
from redis.exceptions import LockError

from app.config import Config
from app.realtime import UpdateQueue
from app.resolve_lock import ResolveLock
from graph.errors import ConfigError, StoreUnavailable
from graph.ingest.identifiers import Registry, default_registry
from graph.ingest.ingester import Ingester
from graph.ingest.segment_messages import DEFAULT_IDENTIFIERS, SegmentMapping
from graph.resolve.resolution import ResolveReport, ResolveSettings
from graph.store import GraphStore
from graph.store.address import ServerAddress
from graph.store.embedded import EmbeddedServer, running_server

__all__ = [
    "Resources",
    "connect",
    "make_registry",
    "make_segment_mapping",
    "make_store",
    "open_resources",
]

logger = logging.getLogger(__name__)

#: seconds a resolution may hold the lock before Redis frees it (a crashed holder)
RESOLVE_LOCK_TIMEOUT = 3600
#: seconds to wait for the lock before giving up
RESOLVE_LOCK_WAIT = 600


@dataclass
class Resources:
    """The long-lived objects of one process, handed to whoever needs them."""

    config: Config
    store: GraphStore
    redis: redis.Redis
    registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        self.registry = make_registry(self.config)

    @functools.cached_property
    def update_queue(self) -> UpdateQueue[ResolveReport | None]:
        """This process's real-time updates, run together (:mod:`app.realtime`)."""
        return UpdateQueue()

    @functools.cached_property
    def segment_mapping(self) -> SegmentMapping:
        """The Segment message mapping of the configuration (built at first use)."""
        return make_segment_mapping(self.config, self.registry)

    def resolve_settings(self) -> ResolveSettings:
        defaults = ResolveSettings()
        return ResolveSettings(
            limits={**defaults.limits, **self.config.profile_limits},
            quarantine_thresholds={
                **defaults.quarantine_thresholds,
                **self.config.quarantine_thresholds,
            },
            quarantine_shared=self.config.quarantine_shared,
            handover_days=self.config.handover_days,
            purchase_types=self.config.purchase_types,
        )

    @contextlib.contextmanager
    def resolve_lock(
        self, wait: float = RESOLVE_LOCK_WAIT, hold: float = RESOLVE_LOCK_TIMEOUT,
        poll: float = 0.1, first: bool = False,
    ) -> Iterator[None]:  # fmt: skip
        """Serializes full and real-time resolution across processes (a Redis lock).

        ``hold``: seconds after which Redis frees the lock of a holder that died
        (kill -9); real-time updates take milliseconds and hold it briefly, so a
        server killed in the middle of one blocks the others only that long.
        ``poll``: seconds between attempts while it is held (a waiter learns the
        lock is free at most that late: real-time updates poll often).
        ``first``: before the waiters that are not (small real-time updates; the
        others defer to them for half a second at most: :mod:`app.resolve_lock`)."""
        lock = ResolveLock(
            self.redis,
            f"idgraph:resolve-lock:{self.config.graph_name}",
            timeout=hold,
            sleep=poll,
            blocking_timeout=wait,
            first=first,
        )
        try:
            acquired = lock.acquire()
        except redis.exceptions.ConnectionError as e:
            raise StoreUnavailable(f"Redis is unreachable: {e}") from e
        if not acquired:
            raise StoreUnavailable(
                f"another resolution held the lock for more than {wait:.0f}s; try again"
            )
        try:
            yield
        finally:
            with contextlib.suppress(LockError):
                lock.release()

    def ingester(self, *, collect_touched: bool = False, mark_profiles: bool = True) -> Ingester:
        return Ingester(
            self.store,
            self.registry,
            batch_size=self.config.batch_size,
            max_identifiers=self.config.max_identifiers_per_event,
            collect_touched=collect_touched,
            mark_profiles=mark_profiles,
        )

    def close(self) -> None:
        self.store.close()
        self.redis.close()


def make_segment_mapping(config: Config, registry: Registry) -> SegmentMapping:
    """The Segment mapping of the configuration, every identifier type checked."""
    paths = dict(DEFAULT_IDENTIFIERS)
    for path, type_name in config.segment_identifiers.items():
        if type_name:
            paths[path] = type_name
        else:
            paths.pop(path, None)
    unknown = sorted({t for t in paths.values() if t not in registry})
    if unknown:
        raise ConfigError(
            f"segment_identifiers: unknown identifier type(s) {', '.join(unknown)} "
            "(declare them under [identifier_types])"
        )
    return SegmentMapping(
        identifiers=paths,
        purchase_events=config.segment_purchase_events,
        revenue_properties=config.segment_revenue_properties,
    )


def make_registry(config: Config) -> Registry:
    return default_registry(region=config.default_region, extra=config.identifier_types)


def make_store(config: Config, embedded: ServerAddress | None = None) -> GraphStore:
    """The store ``config.graph_url`` names (the embedded server when unset)."""
    if config.backend == "neo4j":
        from graph.store.neo4j_store import Neo4jStore

        assert config.graph_url is not None
        return Neo4jStore(
            config.graph_url,
            user=config.neo4j_user,
            password=config.neo4j_password,
            database=config.neo4j_database,
        )
    from graph.store.falkordb_store import FalkorDBStore

    if config.graph_url:
        address = ServerAddress.from_url(config.graph_url)
    elif embedded is not None:
        address = embedded
    else:
        raise ConfigError("no graph_url and no embedded server address")
    return FalkorDBStore(address, config.graph_name)


def connect(config: Config, embedded: ServerAddress | None = None) -> Resources:
    """Connect to already running servers (the embedded one must be up)."""
    if config.uses_embedded_store and embedded is None:
        status = EmbeddedServer(config.data_dir).status()
        if status is None:
            raise StoreUnavailable(
                f"the embedded store in {config.data_dir} is not running; "
                "start it with `idgraph store start` (or use `idgraph serve`)"
            )
        embedded = status.address
    if config.redis_url:
        redis_client = redis.Redis.from_url(config.redis_url)
    else:
        assert embedded is not None
        redis_client = redis.Redis(**embedded.redis_kwargs())
    store = make_store(config, embedded)
    try:
        store.ping()
        store.ensure_schema()
    except Exception:
        store.close()
        redis_client.close()
        raise
    return Resources(config, store, redis_client)


@contextlib.contextmanager
def open_resources(config: Config) -> Iterator[Resources]:
    """Resources for a ``with`` block, starting the embedded server if needed.

    A server started here is stopped at the end of the block, so a command that
    needed the store leaves no process behind; a running one is left running.
    """
    with contextlib.ExitStack() as stack:
        embedded = None
        if config.uses_embedded_store:
            started = running_server(config.data_dir, fsync=config.store_fsync,
                                     query_threads=config.store_query_threads)  # fmt: skip
            embedded = stack.enter_context(started)
        resources = connect(config, embedded)
        stack.callback(resources.close)
        yield resources
