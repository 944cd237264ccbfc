"""One configuration object, filled in a fixed order.

Defaults, then a TOML config file (``IDGRAPH_CONFIG`` or an explicit path),
then ``IDGRAPH_*`` environment variables, then an explicit mapping (tests and
the CLI's own options). Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.errors import ConfigError

__all__ = ["Config"]

ENV_PREFIX = "IDGRAPH_"


@dataclass(frozen=True)
class Config:
    """Every setting idgraph reads. Build it with :meth:`Config.load`."""

    data_dir: Path = Path(".idgraph")
    #: unset: embedded FalkorDB; ``falkordb://host:port`` or ``unix:///path.sock``;
    #: ``neo4j://`` / ``bolt://`` for Neo4j
    graph_url: str | None = None
    #: unset: the embedded server
    redis_url: str | None = None
    graph_name: str = "idgraph"
    #: when the embedded store (one idgraph starts) syncs its append-only file to disk:
    #: ``everysec`` — a crash of the machine (power, kernel) may lose up to about the
    #: last second of acknowledged writes; ``always`` — before each answer, so nothing
    #: acknowledged is lost, at a cost in throughput (docs/benchmarks.md, "Durability").
    #: A crash of the store's process loses nothing acknowledged either way
    store_fsync: str = "everysec"
    #: the queries the embedded store runs at once: 0, FalkorDB's default (one a core);
    #: 1 — one at a time — rules out a FalkorDB 4.16 crash (a read beside a write that
    #: resizes the graph's matrices; idgraph makes those resizes rare but cannot stop
    #: them: docs/architecture.md, Embedded server) at the price of reads waiting
    #: for each other and for writes (docs/benchmarks.md, Real-time updates, 2026-12-07 08:15)
    store_query_threads: int = 0
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    #: events per store write; identifiers and edges of a batch go in one query
    batch_size: int = 2000
    #: region for phone numbers written without a country code
    default_region: str = "US"
    #: an event carrying more identifiers than this is rejected (it is not one person)
    max_identifiers_per_event: int = 20
    #: extra or overridden identifier types: {name: {"strength": "strong"|"weak",
    #: "normalizer": "trim"|"email"|"phone"|"device_id"|"ip"}}
    identifier_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: the largest request body ``POST /v1/events`` takes
    max_events_per_request: int = 10_000
    #: most identifiers of a type one profile may hold, e.g. {"user_id": 1, "email": 3};
    #: in the environment: ``IDGRAPH_PROFILE_LIMITS="user_id=1,email=3"``; empty: defaults
    profile_limits: Mapping[str, int] = field(default_factory=dict)
    #: quarantine an identifier linked to more identity identifiers than this, per type
    quarantine_thresholds: Mapping[str, int] = field(default_factory=dict)
    #: quarantine devices, cookies, e-mails, phones linked to two user_ids or loyalty_ids
    quarantine_shared: bool = True
    #: a phone or e-mail used with one person, then (this many days later or more)
    #: with another, was handed on (a recycled number): it links neither
    handover_days: float = 30.0
    #: ``POST /v1/events`` updates profiles of the identifiers it saw (False: only resolve does)
    realtime_updates: bool = True
    #: link model: IPs seen with more clusters than this are not used for candidates
    link_ip_cap: int = 25
    #: link model: browser chains apply when their precision reaches this (95% lower bound)
    link_target_precision: float = 0.99
    #: link model: the B-cubed precision profiles keep: the model's families link at
    #: thresholds whose expected wrong links (95% upper bound, from simulated out-of-fold
    #: decisions) cost at most half of what lies above it (ml/error_budget.py), never
    #: below 0.99 (profile family) or 0.9 (device family) per decision; when no family
    #: can, `train` fails
    link_profile_precision: float = 0.995
    #: link model: an anonymous cluster whose two best profiles score within this stays alone
    link_margin: float = 0.1
    #: link model: `train` simulates decisions for at most this many identified
    #: customers (a seeded sample beyond it; candidates still from the whole graph)
    link_training_customers: int = 5000
    #: link model: `train` reads the whole graph up to this many strong identifiers;
    #: above it, a sample of its IPs closed over what the features read (ml/sampling.py)
    link_train_whole_limit: int = 250_000
    #: link model: about how many strong identifiers a sampled `train` draws its
    #: queries and decisions from (the share of IPs it seeds: this over the graph's)
    link_train_sample: int = 30_000
    #: ``idgraph resolve`` re-plans only what was ingested since the last resolve until
    #: the identifiers re-planned so since the last full resolve exceed this share of
    #: the graph; then it rebuilds everything (and the link model re-scores all)
    resolve_full_share: float = 0.1
    #: event types that are purchases (their ``amount`` feeds the profile facts and RFM)
    purchase_types: tuple[str, ...] = ("purchase",)
    log_level: str = "WARNING"
    #: look-ups and profile reads leave out links below this confidence unless the
    #: caller asks otherwise (deterministic links 1, model links their score)
    min_confidence: float = 0.0
    #: graph health after each resolve (graph/resolve/health.py): alarms on a profile
    #: over this many members, on the size distribution moving more than this (total
    #: variation) between two resolves, on quarantine growing by more than this share
    health_max_profile_size: int = 200
    health_max_distribution_shift: float = 0.05
    health_max_quarantine_growth: float = 0.5
    #: ``text`` (one readable line) or ``json`` (one JSON object a line, with the
    #: request ID inside a request, for a log system)
    log_format: str = "text"
    #: the largest HTTP request body, in bytes (413 above it)
    max_request_bytes: int = 10 * 1024 * 1024
    #: requests a minute one API key may make (0: no limit); counted on the shared Redis
    rate_limit_per_minute: int = 6000
    #: a file holding the deployment's admin key (e.g. a Docker secret): ``serve`` stores
    #: it as the key named ``admin`` with every scope
    admin_key_file: str | None = None
    #: hours a console sign-in lasts (the session is also ended by sign-out, or at
    #: once when its API key is revoked or expires)
    console_session_hours: float = 8.0
    #: the console's session cookie is ``Secure`` (sent over HTTPS only; browsers
    #: also send it to http://localhost and 127.0.0.1). False only behind a plain-HTTP
    #: proxy on another host name, which you should not have
    console_secure_cookie: bool = True
    #: days the audit trail keeps its entries
    audit_retention_days: float = 365.0
    #: Segment-spec collection: message path → identifier type, over the defaults
    #: (graph.ingest.segment_messages.DEFAULT_IDENTIFIERS); an empty type drops a default path.
    #: In the environment: ``IDGRAPH_SEGMENT_IDENTIFIERS="traits.crm=crm_id,context.ip="``
    segment_identifiers: Mapping[str, str] = field(default_factory=dict)
    #: Segment ``track`` events that are purchases (stored as type ``purchase``)
    segment_purchase_events: tuple[str, ...] = ("Order Completed",)
    #: properties holding a purchase's amount, the first one present wins
    segment_revenue_properties: tuple[str, ...] = ("revenue", "total", "value")
    #: the largest ``/v1/batch`` body (Segment's limit: 500 KB); one message: 32 KB
    segment_max_batch_bytes: int = 500 * 1024

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Config:
        """Defaults < config file < ``IDGRAPH_*`` environment < ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        file_path = path or env.get(ENV_PREFIX + "CONFIG")
        if file_path:
            values.update(_read_file(Path(file_path)))
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and f.name != "identifier_types":  # a table: file only
                values[f.name] = raw
        values.update(overrides or {})
        return cls._coerce(values)

    @classmethod
    def _coerce(cls, values: Mapping[str, Any]) -> Config:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            default = known[name].default
            try:
                if name == "data_dir":
                    kwargs[name] = Path(value).expanduser()
                elif isinstance(default, bool):
                    kwargs[name] = str(value).lower() in {"1", "true", "yes", "on"}
                elif isinstance(default, int):
                    kwargs[name] = int(value)
                elif isinstance(default, float):
                    kwargs[name] = float(value)
                elif name == "identifier_types":
                    kwargs[name] = {k: dict(v) for k, v in dict(value).items()}
                elif name in (
                    "purchase_types", "segment_purchase_events", "segment_revenue_properties"
                ):  # fmt: skip
                    kwargs[name] = _names(value)
                elif name == "segment_identifiers":
                    kwargs[name] = _str_mapping(value)
                elif name in ("profile_limits", "quarantine_thresholds"):
                    kwargs[name] = _int_mapping(value)
                else:
                    kwargs[name] = None if value in (None, "") else str(value)
            except (TypeError, ValueError) as e:
                raise ConfigError(f"setting {name}={value!r}: {e}") from e
        config = cls(**kwargs)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.health_max_profile_size < 2 or not 0 < self.health_max_distribution_shift <= 1:
            raise ConfigError("health_max_profile_size must be >= 2 and "
                              "health_max_distribution_shift in (0, 1]")  # fmt: skip
        if self.health_max_quarantine_growth <= 0:
            raise ConfigError("health_max_quarantine_growth must be > 0")
        if not 0 <= self.min_confidence <= 1:
            raise ConfigError("min_confidence must be in [0, 1]")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format {self.log_format!r}: use text or json")
        if self.max_request_bytes < 1024:
            raise ConfigError("max_request_bytes must be at least 1024")
        if self.rate_limit_per_minute < 0 or self.audit_retention_days <= 0:
            raise ConfigError("rate_limit_per_minute must be >= 0, audit_retention_days > 0")
        if self.segment_max_batch_bytes < 32 * 1024:
            raise ConfigError("segment_max_batch_bytes must be at least 32768 (one message)")
        if self.store_fsync not in ("everysec", "always"):
            raise ConfigError(f"store_fsync {self.store_fsync!r}: use everysec or always")
        if self.store_query_threads < 0:
            raise ConfigError("store_query_threads must be 0 (FalkorDB's default) or more")
        if self.batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if self.max_identifiers_per_event < 2:
            raise ConfigError("max_identifiers_per_event must be at least 2")
        if not 0.5 <= self.link_target_precision < 1:
            raise ConfigError("link_target_precision must be in [0.5, 1)")
        if not 0.5 <= self.link_profile_precision < 1:
            raise ConfigError("link_profile_precision must be in [0.5, 1)")
        if self.link_training_customers < 100:
            raise ConfigError("link_training_customers must be at least 100")
        if self.link_train_whole_limit < 0 or self.link_train_sample < 100:
            raise ConfigError("link_train_whole_limit must be >= 0, link_train_sample >= 100")
        if not 0 <= self.resolve_full_share <= 1:
            raise ConfigError("resolve_full_share must be in [0, 1] (0: every resolve is full)")
        if self.graph_url and self.graph_url.split("://")[0] not in {
            "falkordb",
            "redis",
            "unix",
            "neo4j",
            "neo4j+s",
            "neo4j+ssc",
            "bolt",
            "bolt+s",
            "bolt+ssc",
        }:
            raise ConfigError(
                f"graph_url {self.graph_url!r}: use falkordb://host:port, neo4j://… or bolt://…"
            )

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed (validated like the original)."""
        return self._coerce({**dataclasses.asdict(self), **changes})

    @property
    def uses_embedded_store(self) -> bool:
        """True when idgraph runs its own FalkorDB/Redis server in ``data_dir``."""
        return self.graph_url is None or self.redis_url is None

    @property
    def backend(self) -> str:
        """``falkordb`` or ``neo4j``."""
        if self.graph_url and not self.graph_url.startswith(("falkordb", "redis", "unix")):
            return "neo4j"
        return "falkordb"


def _names(value: Any) -> tuple[str, ...]:
    """``"purchase,order"`` or ``["purchase", "order"]`` to a tuple of names."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(str(v).strip() for v in items if str(v).strip())
    if not names:
        raise ValueError("expected at least one name")
    return names


def _pairs(value: Any, shape: str) -> dict[Any, Any]:
    """A mapping as given in the file, or ``"a=1,b=2"`` from the environment."""
    if not isinstance(value, str):
        return dict(value)
    pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError(f"expected {shape}")
    return {k.strip(): v.strip() for k, v in pairs}


def _str_mapping(value: Any) -> dict[str, str]:
    """``{"traits.crm": "crm_id"}`` or ``"traits.crm=crm_id,context.ip="`` to a dict."""
    return {str(k): str(v).strip() for k, v in _pairs(value, "path=type,path=type").items()}


def _int_mapping(value: Any) -> dict[str, int]:
    """``{"email": 3}`` or ``"email=3,phone=2"`` to ``{"email": 3, "phone": 2}``."""
    value = _pairs(value, "type=number,type=number")
    result = {str(k): int(v) for k, v in value.items()}
    if any(v < 1 for v in result.values()):
        raise ValueError("every number must be at least 1")
    return result


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    # accept both a flat file and one with an [idgraph] table
    return dict(data.get("idgraph", data))
