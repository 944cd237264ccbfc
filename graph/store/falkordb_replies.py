"""Rows of FalkorDB's compact replies, read as the ``falkordb`` client reads them.

Each cell of a ``--compact`` reply is ``[type, value]``; the client parses every one
through a table of functions (``falkordb.query_result.parse_scalar``). Nulls, strings
and integers, nearly every cell idgraph reads, arrive as their Python values already:
they are taken as they are, and every other type is left to the client's own parser
(a million weak observations: 14.2 -> 13.0 s at 194k identifiers, docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from falkordb.query_result import QueryResult, parse_scalar
from redis.exceptions import ResponseError

from graph.store.records import Row

__all__ = ["reply_rows"]

#: cell types whose value is the Python value (FalkorDB's VALUE_NULL, _STRING, _INTEGER)
AS_IS = frozenset((1, 2, 3))


def reply_rows(graph: Any, response: list[Any]) -> list[Row]:
    """The rows of a compact ``GRAPH.QUERY`` / ``GRAPH.RO_QUERY`` reply: the same values
    as ``falkordb.QueryResult(graph, response).result_set``; an error in the reply is
    raised as the client raises it."""
    if isinstance(response[0], ResponseError) or isinstance(response[-1], ResponseError):
        QueryResult(graph, response)  # raises it
    if len(response) == 1 or not response[0]:
        return []  # statistics only, or no columns
    return [
        [cell[1] if cell[0] in AS_IS else parse_scalar(cell, graph) for cell in row]
        for row in response[1]
    ]
