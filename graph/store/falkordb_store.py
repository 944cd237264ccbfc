"""FalkorDB adapter of the store contract, over the Redis protocol."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

import redis
from falkordb import FalkorDB

from graph.errors import ConstraintViolation, InputError, QueryError, StoreUnavailable
from graph.store import GraphStore
from graph.store.address import ServerAddress
from graph.store.falkordb_params import Literal, cypher_literal, params_header
from graph.store.falkordb_replies import reply_rows
from graph.store.persistence import AOF, RDB, rewrite
from graph.store.records import Row
from graph.store.runner import CACHE_SECONDS, CACHED_TOPICS, Read, Write

__all__ = ["FalkorDBStore"]

logger = logging.getLogger(__name__)

#: seconds an erasure waits for the server to rewrite its files without what it erased
#: (a million identifiers: a 615 MB base, written in 6.5 s by a forked child)
FORGET_TIMEOUT = 120.0

#: (label, properties) of every unique constraint; labels from the fixed allow-list
UNIQUE_CONSTRAINTS = (
    ("Identifier", ("type", "value")),
    ("Event", ("event_id",)),
    ("Profile", ("profile_id",)),
    ("Tombstone", ("hash",)),
    ("Meta", ("key",)),
    ("Segment", ("segment_id",)),
    ("ApiKey", ("key_id",)),
    ("ApiKey", ("name",)),
    ("Household", ("household_id",)),
)

T = TypeVar("T")
#: pages of one large read asked for at a time: the store runs the next query while
#: this process parses and uses a reply (a sample's closures at 1M, docs/benchmarks.md)
PAGES_IN_FLIGHT = 2


class FalkorDBStore(GraphStore):
    """A graph named ``graph_name`` on a FalkorDB server (embedded or external)."""

    backend = "falkordb"
    pages_by_node_id = True
    rows_as_text = True

    def __init__(self, address: ServerAddress, graph_name: str) -> None:
        super().__init__()
        self.address = address
        self.graph_name = graph_name
        self._db = FalkorDB(**address.redis_kwargs())
        self._graph = self._db.select_graph(graph_name)

    def _run(
        self, name: str, params: Mapping[str, Any] | None, *, read_only: bool, text: str | None
    ) -> list[Row]:
        command = self._command(name, params, read_only=read_only, text=text)
        with self._errors(name):
            return reply_rows(self._graph, self._graph.execute_command(*command))

    def _read_all(self, reads: Sequence[Read]) -> list[list[Row]]:
        """The reads sent together (a pipeline: one round trip), run one after the other."""
        if len(reads) < 2:
            return super()._read_all(reads)
        return self._pipelined([(r.name, r.params, True) for r in reads])

    def _in_turn(self, reads: Iterable[Callable[[], T]]) -> Iterator[T]:
        """The results of ``reads`` in order, :data:`PAGES_IN_FLIGHT` of them asked for
        at a time (a thread each, a connection each from the client's pool): the
        server runs one page's query while this process parses another's reply, where
        one after the other each waited for the other. A single read runs here."""
        calls = iter(reads)
        head = list(islice(calls, PAGES_IN_FLIGHT))
        if len(head) < 2:
            yield from (read() for read in head)
            return
        with ThreadPoolExecutor(PAGES_IN_FLIGHT, thread_name_prefix="idgraph-read") as pool:
            pending: deque[Future[T]] = deque(pool.submit(read) for read in head)
            while pending:
                result = pending.popleft().result()
                pending.extend(pool.submit(read) for read in islice(calls, 1))
                yield result

    def _run_write_all(self, writes: Sequence[Write]) -> list[list[Row]]:
        """The writes sent together (a pipeline: one round trip). The store runs them
        one after the other in this order (a client's next command waits for its
        query); one that fails does not stop those after it, and the first error is
        raised once all have run."""
        if len(writes) < 2:
            return super()._run_write_all(writes)
        return self._pipelined([(w.name, w.params, False) for w in writes])

    def _pipelined(self, queries: Sequence[tuple[str, Mapping[str, Any] | None, bool]]
                   ) -> list[list[Row]]:  # fmt: skip
        pipe = self._db.connection.pipeline(transaction=False)
        for name, params, read_only in queries:
            pipe.execute_command(*self._command(name, params, read_only=read_only))
        with self._errors(queries[0][0]):
            responses = pipe.execute(raise_on_error=False)
        rows = []
        for (name, _, _), response in zip(queries, responses, strict=True):
            with self._errors(name):
                if isinstance(response, Exception):
                    raise response
                rows.append(reply_rows(self._graph, response))
        return rows

    def _command(
        self, name: str, params: Mapping[str, Any] | None, *, read_only: bool,
        text: str | None = None,
    ) -> tuple[str, ...]:  # fmt: skip
        text = text or self.queries[name]
        # parameters travel as text, in a header before the query: a NUL would cut it
        header = params_header(params) if params else ""
        if "\x00" in header:
            raise InputError("a value contains a NUL character (\\u0000), which the store "
                             "cannot hold or search for")  # fmt: skip
        command = "GRAPH.RO_QUERY" if read_only else "GRAPH.QUERY"
        return command, self.graph_name, header + text, "--compact"

    @contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        """The client's errors as idgraph's."""
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise StoreUnavailable(
                f"FalkorDB at {self.address.describe()} is unreachable: {e}", query=name
            ) from e
        except redis.exceptions.ResponseError as e:
            if str(e).startswith("unique constraint violation"):
                raise ConstraintViolation(f"FalkorDB refused the write: {e}", query=name) from e
            raise QueryError(f"FalkorDB rejected the query: {e}", query=name) from e

    def _read(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        return self._run(name, params, read_only=True, text=text)

    def _encode_params(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return {key: Literal(cypher_literal(value)) for key, value in params.items()}

    def _run_write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        return self._run(name, params, read_only=False, text=text)

    def _revision_key(self, topic: str) -> str:
        return f"idgraph:revision:{self.graph_name}:{topic}"

    def _revisions(self, topics: Sequence[str]) -> dict[str, int] | None:
        """Plain Redis counters beside the graph: one MGET instead of a graph query."""
        try:
            values = self._db.connection.mget([self._revision_key(t) for t in topics])
        except (redis.exceptions.RedisError, OSError):
            return None  # nothing cached; the read itself reports the outage
        return {topic: int(value or 0) for topic, value in zip(topics, values, strict=True)}

    def _bump_revision(self, topic: str) -> None:
        try:
            self._db.connection.incr(self._revision_key(topic))
        except (redis.exceptions.RedisError, OSError) as e:
            raise StoreUnavailable(
                f"FalkorDB at {self.address.describe()}: {topic} changed, but other "
                f"processes may serve the old ones for up to {CACHE_SECONDS:.0f} s: {e}"
            ) from e

    def ensure_schema(self) -> None:
        self._no_query_telemetry()
        for statement in self.schema_statements():
            try:
                self._graph.query(statement)
            except redis.exceptions.ResponseError as e:
                if "already indexed" not in str(e):
                    raise QueryError(f"schema statement failed: {e}", query="schema") from e
            except redis.exceptions.ConnectionError as e:
                raise StoreUnavailable(f"FalkorDB is unreachable: {e}", query="schema") from e
        existing = {
            (row[1], tuple(row[2]))
            for row in self._graph.ro_query("CALL db.constraints()").result_set
        }
        for label, properties in UNIQUE_CONSTRAINTS:
            if (label, properties) in existing:
                continue
            try:
                self._db.connection.execute_command(
                    "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label,
                    "PROPERTIES", str(len(properties)), *properties,
                )  # fmt: skip
            except redis.exceptions.ResponseError as e:
                if "already exists" not in str(e).lower():
                    raise QueryError(f"constraint on {label} failed: {e}") from e

    def _no_query_telemetry(self) -> None:
        """FalkorDB keeps every query with its parameters (customers' e-mails and phones)
        in a ``telemetry{graph}`` stream that is persisted and outlives an erasure: turn
        it off (``CMD_INFO``; the embedded server starts with it off) and drop what an
        older server kept."""
        connection = self._db.connection
        try:
            connection.execute_command("GRAPH.CONFIG", "SET", "CMD_INFO", "no")
        except redis.exceptions.ResponseError as e:
            logger.warning("could not turn FalkorDB's query telemetry (CMD_INFO) off: %s; "
                           "it keeps query parameters, personal data among them", e)  # fmt: skip
        except redis.exceptions.ConnectionError as e:
            raise StoreUnavailable(f"FalkorDB is unreachable: {e}", query="schema") from e
        connection.delete(f"telemetry{{{self.graph_name}}}")

    def _forget_slow_queries(self) -> None:
        client = self._db.connection
        for command in (("SLOWLOG", "RESET"), ("GRAPH.SLOWLOG", self.graph_name, "RESET")):
            try:
                client.execute_command(*command)
            except redis.exceptions.ResponseError as e:  # renamed or refused
                logger.warning("%s after an erasure failed: %s; the server's slow log may "
                               "hold erased values until it is reset", command[0], e)  # fmt: skip
            except (redis.exceptions.ConnectionError, OSError) as e:
                raise StoreUnavailable(f"FalkorDB is unreachable: {e}", query="forget") from e

    def ping(self) -> None:
        try:
            self._db.connection.ping()
        except (redis.exceptions.RedisError, OSError) as e:
            raise StoreUnavailable(f"FalkorDB at {self.address.describe()}: {e}") from e

    def close(self) -> None:
        self._db.connection.close()

    def describe(self) -> str:
        return f"falkordb {self.address.describe()} graph={self.graph_name}"

    def forget_deleted(self) -> dict[str, Any]:
        """Rewrite the server's append-only file — its log of write queries holds the
        values they wrote — and its RDB snapshot when it keeps one, from the data as it
        is now (graph/store/persistence.py). An external server without either keeps
        nothing on disk to rewrite. First the server's slow logs are emptied: Redis's
        (``SLOWLOG``) and FalkorDB's (``GRAPH.SLOWLOG``) keep slow queries with their
        parameters in memory, customers' values among them."""
        client = self._db.connection
        self._forget_slow_queries()
        try:
            config = {**client.config_get("appendonly"), **client.config_get("save")}
            kinds = [kind for kind, on in ((AOF, config.get("appendonly") == "yes"),
                                           (RDB, bool(config.get("save")))) if on]  # fmt: skip
            done = all([rewrite(client, kind, FORGET_TIMEOUT) for kind in kinds])
        except redis.exceptions.ResponseError as e:  # CONFIG renamed or refused
            logger.warning("the store's files were not rewritten after an erasure: %s", e)
            return {"rewritten": [], "done": False, "detail": f"could not rewrite: {e}"}
        except (redis.exceptions.ConnectionError, OSError) as e:
            raise StoreUnavailable(f"FalkorDB is unreachable: {e}", query="forget") from e
        names = [kind.name for kind in kinds]
        if not done:
            logger.warning("the store's %s not rewritten within %ss of an erasure: they hold "
                           "erased data until the next rewrite (the embedded store's at "
                           "the latest at its stop)",
                           " and ".join(names), FORGET_TIMEOUT)  # fmt: skip
            return {"rewritten": [], "done": False,
                    "detail": f"not rewritten within {FORGET_TIMEOUT:.0f} s; rewritten at "
                              "the latest when the embedded store stops"}  # fmt: skip
        detail = "no files on disk" if not kinds else "rewritten from the data as it is now"
        return {"rewritten": names, "done": True, "detail": detail}

    def drop(self) -> None:
        """Delete the whole graph key, schema included (tests)."""
        for topic in CACHED_TOPICS:
            self._bumped(topic)
        try:
            self._graph.delete()
        except redis.exceptions.ResponseError as e:
            if "empty key" not in str(e).lower() and "invalid graph" not in str(e).lower():
                raise
