"""The store contract's rooms: each repository names the Cypher files it runs, and
every file in cypher/ belongs to exactly one of them (or to the runner)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from graph.store import GraphStore
from graph.store.contract import REPOSITORIES
from graph.store.runner import StoreRunner

CYPHER = Path(__file__).resolve().parents[2] / "cypher"
CALL = re.compile(
    r"""(?:(?:_read|_write|_pages|compose|Read|Write)\(\s*|ranged_by=)["'](\w+)["']"""
)


@pytest.mark.parametrize("repository", REPOSITORIES, ids=lambda r: r.__name__)
def test_a_repository_names_every_query_it_runs(repository: type[StoreRunner]) -> None:
    own = "".join(
        inspect.getsource(function)
        for member in vars(repository).values()
        if inspect.isfunction(function := getattr(member, "__func__", member))
    )
    assert set(CALL.findall(own)) == set(repository.QUERIES)


def test_every_cypher_file_belongs_to_one_room() -> None:
    owners: dict[str, list[str]] = {}
    for room in (StoreRunner, *REPOSITORIES):
        for name in room.QUERIES:
            owners.setdefault(name, []).append(room.__name__)
    files = {path.stem for path in CYPHER.rglob("*.cypher")}
    assert files == set(owners), files ^ set(owners)
    assert {name: rooms for name, rooms in owners.items() if len(rooms) > 1} == {}


def test_the_contract_is_every_repository() -> None:
    assert all(issubclass(GraphStore, room) for room in REPOSITORIES)
    assert all(inspect.getmodule(room).__name__.startswith("graph.store.") for room in REPOSITORIES)
