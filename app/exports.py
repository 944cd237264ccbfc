"""Profile exports as files, streamed a page at a time."""

from __future__ import annotations

import json
import os
from pathlib import Path

from graph.errors import InputError
from graph.ingest.identifiers import Registry
from graph.progress import Progress, no_progress
from graph.store import GraphStore

__all__ = ["write_profiles"]


def write_profiles(
    store: GraphStore,
    registry: Registry,
    output: Path,
    *,
    page_size: int = 2000,
    progress: Progress = no_progress,
) -> int:
    """Write every profile as a JSON line; returns the number written.

    Refuses (with the count) while strong identifiers wait for ``resolve``,
    so every stored strong identifier is in exactly one line. The file is
    written beside ``output`` and renamed when complete: a reader never sees a
    half-written export.
    """
    pending = store.count_unresolved(registry.strong_types)
    if pending:
        raise InputError(
            f"{pending} strong identifiers were ingested after the last resolve; "
            "run `idgraph resolve` first"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    count = 0
    total = len(store.active_profiles()) if progress is not no_progress else None
    try:
        with partial.open("w", encoding="utf-8") as f:
            for profile_id, members in store.iter_profiles(page_size=page_size):
                line = {
                    "profile_id": profile_id,
                    "identifiers": [{"type": m.type, "value": m.value} for m in members],
                }
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1
                if count % page_size == 0:
                    progress("exporting profiles", count, total)
        progress("exporting profiles", count, total)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return count
