"""The graph-health monitor through the real CLI, the API and /metrics: every full
resolve records the profile-size distribution, the largest profiles, quarantine and
model-link share, and raises an alarm on a giant profile, a shifted distribution or
a growing quarantine."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app.config import Config
from app.resources import Resources
from ml.synthetic import GeneratedData
from tests.conftest import run_cli, store_env


def _alarm_gauges(client: Any) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "idgraph_health_alarm"
    }


def test_health_is_recorded_and_alarms_raised(
    config: Config, resources: Resources, small_data: GeneratedData, client: Any
) -> None:
    env, data_dir = store_env(config), config.data_dir
    ingested = run_cli("ingest", str(small_data.events_path), data_dir=data_dir, env=env)
    assert ingested.returncode == 0
    assert client.get("/v1/resolve/health").status_code == 404  # no resolve yet

    first = run_cli("resolve", data_dir=data_dir, env=env)
    assert first.returncode == 0 and "graph health" not in first.stderr
    body = client.get("/v1/resolve/health").get_json()
    assert body["alarms"] == [] and body["previous"] is None
    current = body["current"]
    assert current["profiles"] == sum(current["sizes"].values()) > 100
    assert current["largest"][0]["size"] >= current["largest"][-1]["size"] > 0
    assert set(_alarm_gauges(client).values()) == {0.0}

    # the same graph against a tiny size limit: the largest profiles are "giants"
    giant = run_cli("resolve", "--full", data_dir=data_dir,
                    env=store_env(config, IDGRAPH_HEALTH_MAX_PROFILE_SIZE="2"))  # fmt: skip
    assert giant.returncode == 0
    assert (
        "WARNING app.linking: graph health: profile" in giant.stderr
        and "over the limit of 2" in giant.stderr
    )
    body = client.get("/v1/resolve/health").get_json()
    assert {a["kind"] for a in body["alarms"]} == {"giant_profile"}
    assert body["previous"]["profiles"] == current["profiles"]  # unchanged graph: no shift
    assert _alarm_gauges(client)["giant_profile"] == 1.0

    # stricter merge limits split profiles: the distribution shifts
    split = run_cli("resolve", data_dir=data_dir, env=store_env(
        config, IDGRAPH_PROFILE_LIMITS="user_id=1,loyalty_id=1,email=1,phone=1",
        IDGRAPH_HEALTH_MAX_DISTRIBUTION_SHIFT="0.001"))  # fmt: skip
    assert split.returncode == 0
    kinds = {a["kind"] for a in client.get("/v1/resolve/health").get_json()["alarms"]}
    assert kinds == {"distribution_shift"}
    assert _alarm_gauges(client) == {
        "giant_profile": 0.0, "distribution_shift": 1.0, "quarantine_growth": 0.0,
    }  # fmt: skip

    # a much lower quarantine threshold: quarantine grows
    low = "email=1,phone=1,cookie_id=1,device_id=1"
    grown = run_cli("resolve", data_dir=data_dir,
                    env=store_env(config, IDGRAPH_QUARANTINE_THRESHOLDS=low))  # fmt: skip
    assert grown.returncode == 0
    alarms = client.get("/v1/resolve/health").get_json()["alarms"]
    assert "quarantine_growth" in {a["kind"] for a in alarms}, grown.stderr
