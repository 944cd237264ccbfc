"""The HTTP status of each idgraph error, one mapping for the API and the console."""

from __future__ import annotations

from graph.errors import IdgraphError, InputError, NotFound, StoreUnavailable

__all__ = ["status_for"]


def status_for(error: IdgraphError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InputError):
        return 422
    if isinstance(error, StoreUnavailable):
        return 503
    return 500
