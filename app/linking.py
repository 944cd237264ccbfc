"""The link model in the app: train it from the graph, use it in ``resolve``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from app.resources import Resources
from graph.events import Identifier
from graph.resolution import ResolveReport, plan, resolve
from ml.evidence import identifier_histories
from ml.linking import LinkingSettings, Proposal, propose_links, train_model
from ml.model import load, save

__all__ = ["model_dir", "proposer", "resolve_all", "train"]

logger = logging.getLogger(__name__)


def model_dir(res: Resources) -> Path:
    return res.config.data_dir / "models" / res.config.graph_name


def linking_settings(res: Resources) -> LinkingSettings:
    return LinkingSettings(
        ip_cap=res.config.link_ip_cap,
        target_precision=res.config.link_target_precision,
        margin=res.config.link_margin,
    )


def train(res: Resources) -> dict[str, Any]:
    """Train the link model on the current graph; returns its metadata (also saved)."""
    store, registry = res.store, res.registry
    strong = registry.strong_types
    deterministic = plan(
        store.identifiers_of_types(strong),
        store.weighted_links(strong),
        {},
        created_at={},
        overrides=store.quarantine_overrides(),
        settings=res.resolve_settings(),
    )
    observations = store.weak_observations(strong, registry.weak_types)
    model, metadata = train_model(deterministic.clusters, observations, linking_settings(res))
    metadata["observations"] = len(observations)
    metadata["path"] = str(save(model, metadata, model_dir(res)))
    return metadata


def proposer(res: Resources) -> Any | None:
    """The current model as a ``propose`` callable for resolve, or None without one."""
    folder = model_dir(res)
    if not (folder / "link-model.joblib").exists():
        return None
    model, metadata = load(folder)
    settings = linking_settings(res)

    def propose(clusters: list[list[Identifier]]) -> Proposal:
        strong = res.registry.strong_types
        histories = identifier_histories(
            res.store.weak_observations(strong, res.registry.weak_types)
        )
        proposal = propose_links(clusters, histories, model, settings)
        proposal.version = str(metadata.get("version", ""))
        return proposal

    return propose


def resolve_all(res: Resources) -> ResolveReport:
    """A full rebuild as ``idgraph resolve`` and the resolve job run it: configured
    merge protection, the resolution lock, and the current link model if any."""
    return resolve(
        res.store,
        res.registry,
        res.resolve_settings(),
        lock=res.resolve_lock(),
        propose=proposer(res),
    )
