"""The link model in the app: train it from the graph, use it in ``resolve``."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from app.graph_sample import read_sample
from app.households import resolve_households
from app.resources import Resources
from graph.errors import ConfigError, InputError, NotFound
from graph.heap import rare_full_collections
from graph.ingest.events import Identifier, now_ms
from graph.progress import Progress, no_progress
from graph.resolve.changes import (
    Change,
    basis_digest,
    facts_basis,
    overrides_digest,
    pending,
    record_resolved,
)
from graph.resolve.health import HealthLimits, alarms, snapshot
from graph.resolve.preview import Preview, preview
from graph.resolve.resolution import (
    MAX_REALTIME_COMPONENT,
    ResolveReport,
    clustering,
    resolve,
    update_profiles,
)
from ml.evidence import identifier_histories
from ml.linking import LinkingSettings, Proposal, propose_links
from ml.model_card import read_card, write_card
from ml.model_files import METADATA_FILE, MODEL_FILE, load, save

#: (strong identifier, weak value, user agent, ms)
Observation = tuple[Identifier, str, str | None, int]

__all__ = [
    "graph_health",
    "model_card",
    "model_dir",
    "preview_all",
    "proposer",
    "record_run",
    "resolve_all",
    "resolve_basis",
    "train",
]

#: the report of the last training that reached no threshold (the model is kept)
FAILED_FILE = "last-failed-train.json"

logger = logging.getLogger(__name__)


def model_dir(res: Resources) -> Path:
    return res.config.data_dir / "models" / res.config.graph_name


def linking_settings(res: Resources) -> LinkingSettings:
    return LinkingSettings(
        ip_cap=res.config.link_ip_cap,
        target_precision=res.config.link_target_precision,
        profile_precision=res.config.link_profile_precision,
        margin=res.config.link_margin,
        training_customers=res.config.link_training_customers,
        whole_graph_limit=res.config.link_train_whole_limit,
        train_sample=res.config.link_train_sample,
    )


def train(res: Resources, progress: Progress = no_progress) -> dict[str, Any]:
    """Train the link model on the current graph; returns its metadata (also saved).

    Raises :class:`~ml.training.TargetUnreachable` when no threshold reaches the
    target precision: the previous model (if any) is kept, and the attempt's report
    is written to ``last-failed-train.json`` beside it.
    """
    with rare_full_collections():  # millions of long-lived objects (graph.heap)
        return _train(res, progress)


def _train(res: Resources, progress: Progress) -> dict[str, Any]:
    from ml.training import TargetUnreachable, train_model  # scikit-learn: only to train

    progress("reading the graph", 0, None)
    settings = linking_settings(res)
    sampled = read_sample(res, settings, progress)  # None: small enough to read whole
    if sampled is None:
        clusters, quarantined = deterministic_plan(res)
        # streamed: the model keeps the evidence they add up to, not each of them
        strong, weak = res.registry.strong_types, res.registry.weak_types
        observations = _Counted(res.store.each_weak_observation(strong, weak))
    else:
        clusters, quarantined = sampled.clusters, sampled.quarantined
        observations = _Counted(sampled.observations)
    folder = model_dir(res)
    try:
        model, metadata = train_model(clusters, observations, settings, blocked=quarantined,
                                      progress=progress,
                                      sample=sampled.sample if sampled else None)  # fmt: skip
    except TargetUnreachable as e:
        folder.mkdir(parents=True, exist_ok=True)
        report = {**e.report, "observations": observations.count, "error": str(e)}
        record_run(res, "train", {"ok": False, "seconds": e.report.get("seconds"),
                                  "error": str(e)})  # fmt: skip
        (folder / FAILED_FILE).write_text(json.dumps(report, indent=2, default=float) + "\n")
        logger.warning("link model not saved: %s", e)
        raise
    progress("writing the model card", 0, None)
    card = metadata.pop("_card")
    metadata["observations"] = observations.count
    metadata["path"] = str(save(model, metadata, folder))
    metadata["card"] = write_card(folder, metadata, scores=card["scores"], labels=card["labels"],
                                  importances=card["importances"])  # fmt: skip
    (folder / FAILED_FILE).unlink(missing_ok=True)
    record_run(res, "train", {"ok": True, "seconds": metadata["seconds"],
                              "version": metadata["version"]})  # fmt: skip
    return metadata


class _Counted:
    """Observations read once, counted as they are taken."""

    def __init__(self, items: Iterable[Observation]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[Observation]:
        for item in self._items:
            self.count += 1
            yield item


class Deterministic(NamedTuple):
    """The merge-protected deterministic profiles of a graph (:func:`deterministic_plan`)."""

    clusters: list[list[Identifier]]
    quarantined: set[Identifier]


def deterministic_plan(res: Resources) -> Deterministic:
    """The merge-protected deterministic profiles of the graph as it is, clustered
    afresh (nothing written, no profile IDs): what the link model is trained on. Only
    the clusters and the quarantine are kept: ``train`` holds them throughout, and
    the links the clustering applied (a list of ~600,000 at 1M identifiers) would
    live as long."""
    strong = res.registry.strong_types
    made = clustering(
        res.store.identifiers_of_types(strong),
        res.store.weighted_links(strong),
        overrides=res.store.quarantine_overrides(),
        settings=res.resolve_settings(),
    )
    return Deterministic(made.clusters, made.quarantined)


def model_card(res: Resources) -> dict[str, Any]:
    """The current model's card and metadata, and the report of a training that failed
    since it was saved (a successful training removes that report)."""
    folder = model_dir(res)
    failed_path = folder / FAILED_FILE
    failed = json.loads(failed_path.read_text()) if failed_path.exists() else None
    if not (folder / MODEL_FILE).exists():
        hint = f" (the last attempt failed: {failed['error']})" if failed else ""
        raise NotFound(f"no link model for graph {res.config.graph_name!r}{hint}; "
                       "run `idgraph train`")  # fmt: skip
    metadata = json.loads((folder / METADATA_FILE).read_text())
    return {
        "version": metadata.get("version"),
        "path": str(folder),
        "card": read_card(folder),
        "metadata": metadata,
        "last_failed_train": failed,
    }


def proposer(
    res: Resources,
    folder: Path | None = None,
    *,
    observations: Callable[[], list[Observation]] | None = None,
) -> Any | None:
    """The current model (or the one saved in ``folder``) as a ``propose`` callable
    for resolve, or None without one. ``observations``: where to get the weak
    observations (default: read them from the store when proposing)."""
    folder = folder or model_dir(res)
    if not (folder / MODEL_FILE).exists():
        return None
    model, metadata = load(folder)
    settings = linking_settings(res)

    def propose(clusters: list[list[Identifier]], blocked: set[Identifier]) -> Proposal:
        histories = identifier_histories((observations or _reader(res))())
        proposal = propose_links(clusters, histories, model, settings, blocked=blocked)
        proposal.version = str(metadata.get("version", ""))
        return proposal

    return propose


def resolve_all(
    res: Resources, progress: Progress = no_progress, *, full: bool = False
) -> ResolveReport:
    """``idgraph resolve`` and the resolve job: configured merge protection, the
    resolution lock, and the current link model if any.

    Follows change (:mod:`graph.resolve.changes`): nothing to do when nothing was
    ingested since the last resolve; only the identifiers ingested since and their
    neighbourhood when the settings, overrides and model are those of the last full
    resolve; otherwise (or with ``full``) a full rebuild, then households and graph
    health. The weak observations are read once, for the model and the households."""
    with rare_full_collections():  # millions of long-lived objects (graph.heap)
        return _resolve_all(res, progress, full=full)


def _resolve_all(res: Resources, progress: Progress, *, full: bool) -> ResolveReport:
    started = time.perf_counter()
    basis = resolve_basis(res)
    facts = facts_basis(res.resolve_settings().purchase_types)
    change = pending(res.store, res.registry.strong_types, basis, full=full,
                     full_share=res.config.resolve_full_share, facts=facts)  # fmt: skip
    if change.mode == "unchanged":
        report = ResolveReport(mode="unchanged", reason=change.reason,
                               seconds=time.perf_counter() - started)  # fmt: skip
        record_run(res, "resolve", {"ok": True, **report.to_dict()})
        return report
    if change.mode == "incremental":
        updated = _resolve_changed(res, change, progress)
        if updated is not None:
            record_resolved(res.store, change, basis, facts)
            record_run(res, "resolve", {"ok": True, **updated.to_dict()})
            return updated
        change.mode = "full"
        change.reason = f"the identifiers changed reach too much of the graph ({change.reason})"
    follow = None if change.facts_since is None else (change.facts_since, change.sequence)
    report = _resolve_full(res, progress, follow)
    report.mode, report.reason = "full", change.reason
    record_resolved(res.store, change, basis, facts)
    record_run(res, "resolve", {"ok": True, **report.to_dict()})
    report.health = record_health(res, model_links=report.model["applied"] if report.model else 0)
    return report


def resolve_basis(res: Resources) -> str:
    """What a full resolve's result depends on besides the graph: the settings,
    quarantine overrides and the link model's version (a digest)."""
    folder = model_dir(res)
    version = (
        json.loads((folder / METADATA_FILE).read_text()).get("version")
        if (folder / MODEL_FILE).exists()
        else None
    )
    return basis_digest(dataclasses.asdict(res.resolve_settings()),
                        dataclasses.asdict(linking_settings(res)), version,
                        overrides_digest(res.store.quarantine_overrides()))  # fmt: skip


def _resolve_changed(res: Resources, change: Change, progress: Progress) -> ResolveReport | None:
    """Re-plan the identifiers ingested since the last resolve with their closed
    neighbourhood (None: it reaches more of the graph than an incremental resolve may)."""
    progress("re-planning what changed", 0, None)
    limit = int(res.config.resolve_full_share * change.graph_size)
    updated = update_profiles(res.store, res.registry, change.seeds, res.resolve_settings(),
                              facts_of=change.profiles,
                              added=(change.since, change.sequence),
                              lock=res.resolve_lock(),
                              max_scope=max(MAX_REALTIME_COMPONENT, limit))  # fmt: skip
    if updated is not None:
        updated.mode, updated.reason = "incremental", change.reason
        if (model_dir(res) / MODEL_FILE).exists():
            # its links stay (they are in the neighbourhood); it scores no new identifier
            updated.model = {"rerun": False}
    return updated


def _resolve_full(
    res: Resources, progress: Progress, facts_follow: tuple[int, int] | None
) -> ResolveReport:
    read = _reader(res)
    kept: list[list[Observation]] = []

    def observations() -> list[Observation]:
        if not kept:
            kept.append(read())
        return kept[0]

    report = resolve(
        res.store,
        res.registry,
        res.resolve_settings(),
        lock=res.resolve_lock(),
        propose=proposer(res, observations=observations),
        progress=progress,
        facts_follow=facts_follow,
    )
    report.households = resolve_households(res, observations())
    return report


def _reader(res: Resources) -> Callable[[], list[Observation]]:
    """Reads every (strong identifier, weak value, user agent, ms) observation."""
    strong, weak = res.registry.strong_types, res.registry.weak_types
    return lambda: res.store.weak_observations(strong, weak)


def health_limits(res: Resources) -> HealthLimits:
    c = res.config
    return HealthLimits(c.health_max_profile_size, c.health_max_distribution_shift,
                        c.health_max_quarantine_growth)  # fmt: skip


def record_health(res: Resources, *, model_links: int) -> dict[str, Any]:
    """After a full resolve: the graph's health next to the last resolve's, with its
    alarms (logged at WARNING); kept in the graph (``Meta`` "health")."""
    store = res.store
    current = snapshot(store.profile_sizes(), store.largest_profiles(10),
                       quarantined=store.count_quarantined(),
                       identifiers=store.node_counts()["Identifier"], model_links=model_links,
                       at=now_ms())  # fmt: skip
    previous = (store.meta("health") or {}).get("current")
    found = alarms(previous, current, health_limits(res))
    for alarm in found:
        logger.warning("graph health: %s", alarm["message"])
    health = {"current": current, "previous": previous, "alarms": found}
    store.set_meta("health", health)
    return health


def graph_health(res: Resources) -> dict[str, Any]:
    """The health recorded by the last full resolve (NotFound before one)."""
    health = res.store.meta("health")
    if not health:
        raise NotFound("no resolve recorded its graph health yet; run `idgraph resolve`")
    return dict(health)


#: the settings a dry run may change: those resolution reads (never paths or servers)
PREVIEW_SETTINGS = (
    "profile_limits",
    "quarantine_thresholds",
    "quarantine_shared",
    "handover_days",
    "link_ip_cap",
    "link_target_precision",
    "link_margin",
)


def preview_all(
    res: Resources,
    changes: Mapping[str, str] | None = None,
    *,
    model: Path | None = None,
    progress: Progress = no_progress,
) -> Preview:
    """What ``resolve_all`` would change with the settings ``changes`` (names as in
    the configuration, values as in the environment) and the model saved in
    ``model`` (default: the current one), without writing."""
    unknown = sorted(set(changes or {}) - set(PREVIEW_SETTINGS))
    if unknown:
        raise InputError(f"settings: {', '.join(unknown)} cannot be previewed; settings that "
                         f"change resolution: {', '.join(PREVIEW_SETTINGS)}",
                         field="settings")  # fmt: skip
    try:
        config = res.config.replace(**dict(changes or {}))
    except ConfigError as e:
        raise InputError(f"settings: {e}", field="settings") from e
    changed = dataclasses.replace(res, config=config)
    if model is not None and not (model / MODEL_FILE).exists():
        raise NotFound(f"no link model in {model} (a folder `idgraph train` wrote)")
    result = preview(changed.store, changed.registry, changed.resolve_settings(),
                     propose=proposer(changed, model), progress=progress)  # fmt: skip
    result.summary["settings"] = dict(changes or {})
    result.summary["model_path"] = str(model or model_dir(res))
    return result


def record_run(res: Resources, kind: str, figures: dict[str, Any]) -> None:
    """Keep the last ``resolve``/``train`` run's figures in the graph (metrics, console)."""
    res.store.set_meta(f"last_{kind}", {**figures, "finished_at": now_ms()})
