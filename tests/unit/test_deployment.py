"""The production layout files: valid, complete, consistent with the README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def readme_services() -> set[str]:
    """Service names in the README's compose table (first column, in backticks)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### docker compose", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_-]+)` \|", section, re.M))


def test_compose_names_every_service_the_readme_mentions() -> None:
    services = compose()["services"]
    mentioned = readme_services()
    assert mentioned == {"neo4j", "redis", "api", "worker"}
    assert mentioned <= set(services)


def test_services_are_wired_by_environment() -> None:
    data = compose()
    services = data["services"]
    assert services["neo4j"]["image"].startswith("neo4j:5")
    assert "healthcheck" in services["neo4j"] and "healthcheck" in services["redis"]
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["IDGRAPH_GRAPH_URL"] == "neo4j://neo4j:7687"
        assert env["IDGRAPH_REDIS_URL"].startswith("redis://redis:")
        assert set(services[name]["depends_on"]) == {"neo4j", "redis"}
        assert services[name]["volumes"] == ["idgraph-data:/data"]
    assert services["api"]["command"][:2] == ["idgraph", "serve"]
    assert services["worker"]["command"] == ["idgraph", "worker"]
    for mount in (v for s in services.values() for v in s.get("volumes", [])):
        assert mount.split(":")[0] in data["volumes"]


def test_dockerfile_copies_every_package() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("app", "graph", "ml", "cypher"):
        assert f"COPY {package} ./{package}" in text


def test_compose_gives_the_api_an_admin_key_from_a_secret() -> None:
    data = compose()
    api = data["services"]["api"]
    assert api["secrets"] == ["idgraph_admin_key"]
    assert api["environment"]["IDGRAPH_ADMIN_KEY_FILE"] == "/run/secrets/idgraph_admin_key"
    assert "idgraph_admin_key" in data["secrets"]
    # it listens on 0.0.0.0 inside the container: serve refuses that without a key
    assert api["command"][api["command"].index("--host") + 1] == "0.0.0.0"
