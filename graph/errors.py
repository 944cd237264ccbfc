"""The one error hierarchy of idgraph.

Every error idgraph raises on purpose derives from :class:`IdgraphError`, so
callers (API, CLI, jobs) can map them to responses and exit codes in one place.
Backend errors are wrapped (``raise StoreUnavailable(...) from e``) and name the
query that failed; errors worth retrying say so through ``retryable``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "IdentifierRejected",
    "IdgraphError",
    "InputError",
    "NotFound",
    "QueryError",
    "StoreError",
    "StoreUnavailable",
    "UnknownQuery",
]


class IdgraphError(Exception):
    """Root of every error idgraph raises on purpose."""

    retryable: bool = False


class ConfigError(IdgraphError):
    """The configuration is missing a value or holds one that cannot work."""


class InputError(IdgraphError):
    """The caller's input is wrong; the message says what and why."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.reason = message
        self.field = field
        self.value = value


class IdentifierRejected(InputError):
    """One identifier value failed normalization or is a placeholder."""


class NotFound(IdgraphError):
    """The identifier or profile asked for does not exist."""


class StoreError(IdgraphError):
    """The graph store failed to run a query."""

    def __init__(self, message: str, *, query: str | None = None) -> None:
        super().__init__(f"{message} (query: {query})" if query else message)
        self.query = query


class StoreUnavailable(StoreError):
    """The graph store (or Redis) cannot be reached; worth retrying later."""

    retryable = True


class QueryError(StoreError):
    """The store rejected a query: a bug in idgraph, never the caller's input."""


class ConstraintViolation(QueryError):
    """A write would break a uniqueness constraint (an event ID another writer stored
    first, say); the store wrote none of it."""


class UnknownQuery(IdgraphError):
    """A Cypher query was asked for by a name that has no file."""
