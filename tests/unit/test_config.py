from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Config
from graph.errors import ConfigError


def test_defaults() -> None:
    config = Config.load(env={})
    assert config.data_dir == Path(".idgraph")
    assert config.graph_url is None and config.uses_embedded_store
    assert config.backend == "falkordb"


def test_order_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "idgraph.toml"
    path.write_text(
        'batch_size = 10\ngraph_name = "from_file"\ndefault_region = "GB"\n'
        '[identifier_types.crm_id]\nstrength = "strong"\n'
    )
    config = Config.load(
        path,
        env={"IDGRAPH_BATCH_SIZE": "20", "IDGRAPH_DATA_DIR": str(tmp_path)},
        overrides={"graph_name": "override"},
    )
    assert config.batch_size == 20
    assert config.graph_name == "override"
    assert config.default_region == "GB"
    assert config.data_dir == tmp_path
    assert config.identifier_types == {"crm_id": {"strength": "strong"}}


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[idgraph]\ngraph_url = "neo4j://db:7687"\n')
    config = Config.load(env={"IDGRAPH_CONFIG": str(path)})
    assert config.backend == "neo4j" and config.graph_url == "neo4j://db:7687"


@pytest.mark.parametrize(
    "env",
    [
        {"IDGRAPH_BATCH_SIZE": "many"},
        {"IDGRAPH_BATCH_SIZE": "0"},
        {"IDGRAPH_GRAPH_URL": "mysql://x"},
        {"IDGRAPH_CONFIG": "/nonexistent/idgraph.toml"},
    ],
)
def test_bad_settings_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Config.load(env=env)


def test_unknown_keys_in_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("bach_size = 3\n")
    with pytest.raises(ConfigError, match="bach_size"):
        Config.load(path, env={})
    path.write_text("not toml [")
    with pytest.raises(ConfigError, match="TOML"):
        Config.load(path, env={})


def test_nothing_is_read_at_import() -> None:
    import importlib

    import app.config

    importlib.reload(app.config)  # must not touch the environment or the disk


def test_segment_mapping_from_the_file_and_the_environment(tmp_path: Path) -> None:
    from app.resources import make_segment_mapping as segment_mapping
    from graph.ingest.identifiers import default_registry

    path = tmp_path / "idgraph.toml"
    path.write_text(
        'segment_purchase_events = ["Order Completed", "Renewed"]\n'
        '[identifier_types.crm_id]\nstrength = "strong"\n'
        '[segment_identifiers]\n"context.traits.crm" = "crm_id"\n'
        '"context.device.advertisingId" = ""\n'
    )
    config = Config.load(path, env={})
    extra = {name: dict(spec) for name, spec in config.identifier_types.items()}
    mapping = segment_mapping(config, default_registry(extra=extra))
    assert mapping.identifiers["context.traits.crm"] == "crm_id"
    assert "context.device.advertisingId" not in mapping.identifiers
    assert mapping.identifiers["userId"] == "user_id"  # the defaults stay
    assert mapping.purchase_events == ("Order Completed", "Renewed")
    from_env = Config.load(env={"IDGRAPH_SEGMENT_IDENTIFIERS": "traits.card=loyalty_id",
                                "IDGRAPH_SEGMENT_REVENUE_PROPERTIES": "price"})  # fmt: skip
    mapping = segment_mapping(from_env, default_registry())
    assert mapping.identifiers["traits.card"] == "loyalty_id"
    assert mapping.revenue_properties == ("price",)
    unknown = Config.load(env={"IDGRAPH_SEGMENT_IDENTIFIERS": "traits.x=nope"})
    with pytest.raises(ConfigError, match="unknown identifier type"):
        segment_mapping(unknown, default_registry())
