"""Neo4j adapter of the store contract, on the official ``neo4j`` driver (6.x).

One driver (connection pool) per store, closed by :meth:`close`. Every query
runs through ``Driver.execute_query`` in a managed transaction on the named
database: transient errors (deadlocks, leader changes) are retried by the
driver, and every write is idempotent (MERGE on constrained keys; an event
already stored fails its unique constraint and rolls the batch back whole), so
a retried batch cannot double-count.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.errors import ConfigError, ConstraintViolation, QueryError, StoreUnavailable
from graph.store import GraphStore
from graph.store.records import Row

__all__ = ["Neo4jStore"]

logger = logging.getLogger(__name__)

CONNECTION_TIMEOUT = 10.0
#: how long the driver keeps retrying a transaction that failed transiently
MAX_RETRY_TIME = 30.0


class Neo4jStore(GraphStore):
    """The graph in one Neo4j database."""

    backend = "neo4j"
    type_labels = True

    def __init__(self, uri: str, *, user: str, password: str, database: str) -> None:
        super().__init__()
        self.uri = uri
        self.database = database
        try:
            self._driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=CONNECTION_TIMEOUT,
                max_transaction_retry_time=MAX_RETRY_TIME,
                user_agent="idgraph",
            )
        except (ValueError, neo4j.exceptions.ConfigurationError) as e:
            raise ConfigError(f"Neo4j URL {uri!r}: {e}") from e

    def _run(
        self,
        name: str,
        params: Mapping[str, Any] | None,
        routing: RoutingControl,
        text: str | None = None,
    ) -> list[Row]:
        text = text or self.queries[name]
        try:
            records, _, _ = self._driver.execute_query(
                text, dict(params or {}), database_=self.database, routing_=routing
            )
        except AuthError as e:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} refused the credentials: {e.message}", query=name
            ) from e
        except (ServiceUnavailable, SessionExpired, TransientError) as e:
            raise StoreUnavailable(f"Neo4j at {self.uri} is unavailable: {e}", query=name) from e
        except ConstraintError as e:
            raise ConstraintViolation(f"Neo4j refused the write: {e.message}", query=name) from e
        except (ClientError, Neo4jError) as e:
            raise QueryError(f"Neo4j rejected the query: {e.message}", query=name) from e
        except DriverError as e:
            raise StoreUnavailable(f"Neo4j driver error: {e}", query=name) from e
        return [record.values() for record in records]

    def _read(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        return self._run(name, params, RoutingControl.READ, text)

    def _run_write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        return self._run(name, params, RoutingControl.WRITE, text)

    def ensure_schema(self) -> None:
        for statement in self.schema_statements():
            try:
                self._driver.execute_query(statement, database_=self.database)
            except AuthError as e:
                raise StoreUnavailable(f"Neo4j refused the credentials: {e.message}") from e
            except (ServiceUnavailable, SessionExpired) as e:
                raise StoreUnavailable(f"Neo4j at {self.uri} is unavailable: {e}") from e
            except Neo4jError as e:
                raise QueryError(f"schema statement failed: {e.message}", query="schema") from e

    def ping(self) -> None:
        """Fail fast (no retry loop) with a clear message when Neo4j cannot be used."""
        try:
            self._driver.verify_connectivity()
        except AuthError as e:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} refused the credentials for this user: {e.message}"
            ) from e
        except (DriverError, Neo4jError, OSError) as e:
            raise StoreUnavailable(f"Neo4j at {self.uri} is unreachable: {e}") from e
        self._read("ping")  # the named database exists and this user may read it

    def close(self) -> None:
        self._driver.close()

    def describe(self) -> str:
        return f"neo4j {self.uri} database={self.database}"

    def forget_deleted(self) -> dict[str, Any]:
        """Neo4j drops deleted records from its store files as they are reused, and keeps
        its transaction logs — every write, values included — for the configured
        retention (``db.tx_log.rotation.retention_policy``): nothing a client can
        rewrite. Said in the erasure's answer (README, Erasure)."""
        return {"rewritten": [], "done": False,
                "detail": "Neo4j keeps deleted values in its transaction logs until they "
                          "rotate out (db.tx_log.rotation.retention_policy)"}  # fmt: skip
