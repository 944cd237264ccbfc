"""Every query the Neo4j adapter can send, linted by Neo4j's own Cypher language service.

Neo4j cannot run on these machines; ``@neo4j-cypher/language-support`` (pinned in
package.json, installed by scripts/test.sh with ``npm ci``) parses and semantically
analyses Cypher offline with Neo4j's grammar. Zero errors and zero deprecation
warnings are required; only "parameter not defined" diagnostics are ignored.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from graph.store.queries import QueryLibrary

ROOT = Path(__file__).resolve().parents[2]
LINTER = ROOT / "tools" / "lint_cypher.mjs"
BROWSER_QUERIES = ROOT / "docs" / "neo4j" / "queries"


def lint(queries: list[dict[str, str]], tmp_path: Path) -> tuple[int, list[dict[str, object]], str]:
    node = shutil.which("node")
    assert node, "Node.js is required for the Neo4j Cypher lint (see README)"
    assert (ROOT / "node_modules" / "@neo4j-cypher" / "language-support").is_dir(), (
        "run `npm ci` (scripts/test.sh does) to install the Cypher language service"
    )
    path = tmp_path / "queries.json"
    path.write_text(json.dumps(queries))
    result = subprocess.run(
        [node, str(LINTER), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, rows, result.stderr


def neo4j_queries() -> list[dict[str, str]]:
    library = QueryLibrary("neo4j")
    queries = []
    for name in library.names():
        if name == "schema":
            for number, statement in enumerate(
                line for line in library["schema"].splitlines() if line.strip()
            ):
                queries.append({"name": f"schema[{number}]", "query": statement})
        else:
            queries.append({"name": name, "query": library[name]})
    for path in sorted(BROWSER_QUERIES.glob("*.cypher")):
        queries.append({"name": f"browser/{path.name}", "query": path.read_text()})
    return queries


def test_every_neo4j_query_lints_clean(tmp_path: Path) -> None:
    queries = neo4j_queries()
    assert len(queries) > 20
    code, rows, stderr = lint(queries, tmp_path)
    problems = {row["name"]: row["problems"] for row in rows if not row["ok"]}
    assert code == 0 and not problems, json.dumps(problems, indent=2)
    assert len(rows) == len(queries), stderr


@pytest.mark.parametrize(
    "query, expected",
    [
        ("MATCH (n RETURN n", "Invalid input"),
        ("MATCH (n) WHERE id(n) = $x RETURN n", "deprecated"),
    ],
)
def test_the_lint_catches_errors_and_deprecations(
    tmp_path: Path, query: str, expected: str
) -> None:
    code, rows, _ = lint([{"name": "bad", "query": query}], tmp_path)
    assert code == 1
    assert not rows[0]["ok"]
    assert any(expected in str(p["message"]) for p in rows[0]["problems"])  # type: ignore[union-attr]


def test_composed_segment_queries_lint_clean(tmp_path: Path) -> None:
    """Segment rules are composed into templates at run time: lint a rule that uses
    every kind of condition, in every template, as Neo4j would receive it."""
    from graph.profiles.segments import compile_rule

    rule = {
        "and": [
            {"field": "last_purchase", "op": ">=", "value": {"days_ago": 30}},
            {"not": {"field": "rfm.group", "op": "in", "value": ["Lost"]}},
            {"field": "rfm.score", "op": "exists"},
            {"or": [{"trait": "city", "op": "=", "value": "Paris"}, {"source": ["pos", "web"]}]},
            {"has": "email"},
            {"field": "purchase_total", "op": "not_in", "value": [0]},
            {
                "events": {
                    "type": "purchase",
                    "source": "pos",
                    "since": "2026-01-01",
                    "until": "2026-02-01",
                },
                "op": ">=",
                "value": 2,
            },
        ]
    }
    library = QueryLibrary("neo4j")
    one = compile_rule(rule, strong_types=["email"], now=0)
    two = [compile_rule(rule, strong_types=["email"], now=0, prefix=f"s{n}_") for n in range(2)]
    queries = [
        {"name": "segment_window", "query": library.compose("segment_window", one.expression)},
        {"name": "segment_count", "query": library.compose("segment_count", one.expression)},
        {
            "name": "profile_segments",
            "query": library.compose("profile_segments", ", ".join(c.expression for c in two)),
        },
    ]
    code, rows, stderr = lint(queries, tmp_path)
    problems = {row["name"]: row["problems"] for row in rows if not row["ok"]}
    assert code == 0 and not problems, json.dumps(problems, indent=2)
    assert len(rows) == 3, stderr
