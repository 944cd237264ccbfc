"""Cypher queries loaded by name from ``cypher/``.

``cypher/<name>.cypher`` holds a query both stores accept; a file of the same
name in ``cypher/<backend>/`` overrides it for that backend where the dialects
differ. Everything is read once when a store is opened; asking for a name that
has no file raises :class:`UnknownQuery`. Values are always ``$parameters``.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from graph.errors import UnknownQuery

__all__ = ["BACKENDS", "CONDITION", "QueryLibrary"]

BACKENDS = ("falkordb", "neo4j")
#: the placeholder a template query holds for a composed condition
CONDITION = "true /* condition */"


class QueryLibrary:
    """The queries one backend runs, by name."""

    def __init__(self, backend: str) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        self.backend = backend
        root = resources.files("cypher")
        self._queries = _read_dir(root)
        self._queries.update(_read_dir(root / backend))

    def __getitem__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQuery(f"no Cypher query named {name!r} for {self.backend}") from None

    def names(self) -> list[str]:
        return sorted(self._queries)

    def compose(self, name: str, expression: str) -> str:
        """The named template with its ``true /* condition */`` placeholder replaced.

        Segment rules compile to a boolean expression built only from fixed
        fragments, allow-listed property names and ``$parameters``
        (:mod:`graph.profiles.segments`); the template keeps the rest of the query in its
        file, where it is linted like every other query.
        """
        text = self[name]
        if text.count(CONDITION) != 1:
            raise UnknownQuery(f"query {name!r} has no single {CONDITION!r} placeholder")
        return text.replace(CONDITION, expression)


def _read_dir(folder: Traversable) -> dict[str, str]:
    queries: dict[str, str] = {}
    if not folder.is_dir():
        return queries
    for entry in folder.iterdir():
        if entry.name.endswith(".cypher") and entry.is_file():
            text = "\n".join(
                line
                for line in entry.read_text("utf-8").splitlines()
                if not line.lstrip().startswith("//")
            ).strip()
            queries[entry.name.removesuffix(".cypher")] = text
    return queries
