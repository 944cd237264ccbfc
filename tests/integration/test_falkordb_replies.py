"""FalkorDB's compact replies read by idgraph (graph/store/falkordb_replies.py) give the
same rows as the ``falkordb`` client's own parser, for every type a query can return,
and errors in a reply are raised as the client raises them."""

from __future__ import annotations

import pytest
from falkordb.query_result import QueryResult
from redis.exceptions import ResponseError

from graph.errors import QueryError
from graph.store.falkordb_replies import reply_rows
from graph.store.falkordb_store import FalkorDBStore

EVERY_TYPE = """
CREATE (a:Identifier {type: 'email', value: 'a@x.com', n: 1, f: 0.5, ok: true})
       -[r:OBSERVED_WITH {weight: 2}]->(b:Identifier {type: 'cookie_id', value: 'é\\tc1'})
WITH a, r, b
MATCH p = (a)-[:OBSERVED_WITH]->(b)
RETURN null, 'text', '', 42, -7, 2.5, true, false, [1, 'x', null, [2.0]],
       {k: 1, m: 'v'}, a, r, p, point({latitude: 1.5, longitude: 2.5}),
       a.value, b.value, a.n, a.f, a.ok, a.missing
"""


def _raw(store: FalkorDBStore, command: str, query: str) -> list:  # type: ignore[type-arg]
    return store._graph.execute_command(command, store.graph_name, query, "--compact")


def test_rows_are_those_the_client_parses(store: FalkorDBStore) -> None:
    written = _raw(store, "GRAPH.QUERY", EVERY_TYPE)
    assert reply_rows(store._graph, written) == QueryResult(store._graph, written).result_set
    query = ("MATCH p = (a:Identifier)-[r]->(b) RETURN a, r, b, p, a.value, b.value, "
             "a.n, a.f, a.ok, a.missing, [a.value, b.value], {n: a.n}")  # fmt: skip
    read = _raw(store, "GRAPH.RO_QUERY", query)
    rows = reply_rows(store._graph, read)
    assert rows == QueryResult(store._graph, read).result_set
    assert rows[0][4:10] == ["a@x.com", "é\tc1", 1, 0.5, True, None]
    assert (
        reply_rows(store._graph, _raw(store, "GRAPH.RO_QUERY", "MATCH (n:Nothing) RETURN n")) == []
    )
    # a write without RETURN answers its statistics only
    assert reply_rows(store._graph, _raw(store, "GRAPH.QUERY", "CREATE (:Meta {key: 'k'})")) == []


def test_errors_in_a_reply_are_raised(store: FalkorDBStore) -> None:
    with pytest.raises(ResponseError):
        reply_rows(store._graph, ["header", [], ResponseError("Division by zero")])
    with pytest.raises(QueryError, match="Division by zero"):
        store._read("ping", text="RETURN 1 / 0")
    assert store._read("ping", text="RETURN 1, 'a', null") == [[1, "a", None]]
