"""Schemathesis against a real ``idgraph serve`` over HTTP, with a key of every scope.

Every operation of the OpenAPI document gets generated requests (valid ones and, in
the fuzzing phase, ones Hypothesis makes up); checks: no server error, every answer
matches its documented schema and content type, and a request without the key is
refused (``ignored_auth``). The store holds a small resolved world so look-ups can hit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
)

from tests.conftest import run_cli, serving

#: generated requests per operation (x ~30 operations: over 1,000 in all)
EXAMPLES = 40
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, ignored_auth]
COUNT: dict[str, int] = {"requests": 0}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "d"
    gen = data_dir.parent / "gen"
    assert run_cli("generate", "--persons", "60", "--output", str(gen),
                   data_dir=data_dir).returncode == 0  # fmt: skip
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    assert run_cli("ingest", str(gen / "events.jsonl"), data_dir=data_dir).returncode == 0
    assert run_cli("resolve", data_dir=data_dir).returncode == 0
    created = run_cli("keys", "create", "--name", "fuzz", "--scope", "read", "--scope",
                      "ingest", "--scope", "segments", "--scope", "admin",
                      data_dir=data_dir)  # fmt: skip
    key = created.stdout.strip().splitlines()[-1]
    try:
        with serving(data_dir, env={"IDGRAPH_RATE_LIMIT_PER_MINUTE": "0"}) as server:
            yield {"base": server.base, "key": key}
    finally:
        run_cli("store", "stop", data_dir=data_dir)
    assert COUNT["requests"] >= 1000, COUNT


@pytest.mark.slow
def test_the_api_keeps_its_contract(live: dict[str, Any]) -> None:
    """Every operation, EXAMPLES generated requests each, through Hypothesis."""
    api = schemathesis.openapi.from_url(f"{live['base']}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        label = operation.label

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: Any) -> None:
            COUNT["requests"] += 1
            try:
                case.call_and_validate(
                    base_url=live["base"],
                    headers={"Authorization": f"Bearer {live['key']}"},
                    checks=CHECKS,
                    timeout=30,
                )
            except Exception as e:  # collect every operation's first failure
                failures.append(f"{label}: {str(e)[:1500]}")  # noqa: B023 (run at once)
                raise

        with contextlib.suppress(Exception):  # recorded in failures, reported below
            run()
    print(f"schemathesis: {COUNT['requests']} requests over {len(operations)} operations, "
          f"{len(failures)} failing operations")  # fmt: skip
    assert not failures, "\n\n".join(failures[:10])
