"""Erasure reaches the files idgraph wrote: reject files and audience exports.

An erased customer's values (and, in hashed audience files, their SHA-256 forms)
are removed line by line from every file under ``<data dir>/rejects/`` and
``<data dir>/exports/<graph>/``; each changed file is rewritten beside itself and
renamed over the old one, so no reader sees half a file. A changed export keeps a
sidecar ``<file>.erasure.json`` with its new checksum and the rows removed, which
the export's status reports. Cost: every such file is read once per erasure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.audiences import hash_email, hash_phone_e164, hash_phone_meta
from app.resources import Resources
from graph.ingest.events import Identifier

__all__ = ["needles", "scrub_files"]

logger = logging.getLogger(__name__)

SIDECAR = ".erasure.json"


def needles(identifiers: Iterable[Identifier]) -> set[str]:
    """The texts that betray the identifiers: values (lowercased) and their hashes."""
    found: set[str] = set()
    for identifier in identifiers:
        value = identifier.value
        found.add(value.lower())
        if identifier.type == "email":
            found.add(hash_email(value))
        elif identifier.type == "phone":
            found.update({hash_phone_e164(value), hash_phone_meta(value)})
    return {n for n in found if len(n) >= 4}  # a 3-letter value would match everything


def _files(res: Resources) -> list[Path]:
    roots = [res.config.data_dir / "rejects", res.config.data_dir / "exports" /
             res.config.graph_name]  # fmt: skip
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*")
                  if p.is_file() and not p.name.endswith((SIDECAR, ".partial")))  # fmt: skip


def _scrub(path: Path, wanted: set[str]) -> tuple[int, str]:
    """Remove the lines holding any of ``wanted``; returns how many went and the
    SHA-256 of what the file holds now."""
    removed = 0
    digest = hashlib.sha256()
    temporary = path.with_name(path.name + ".scrub")
    with (
        path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as source,
        temporary.open("w", encoding="utf-8", errors="surrogateescape", newline="") as target,
    ):
        for line in source:
            lowered = line.lower()
            if any(n in lowered for n in wanted):
                removed += 1
            else:
                target.write(line)
                digest.update(line.encode("utf-8", "surrogateescape"))
        target.flush()
        os.fsync(target.fileno())
    if removed:
        os.replace(temporary, path)
    else:
        temporary.unlink()
    return removed, digest.hexdigest()


def scrub_files(res: Resources, identifiers: Iterable[Identifier]) -> dict[str, Any]:
    """Remove the identifiers' lines from reject and export files (see the module)."""
    wanted = needles(identifiers)
    changed, lines = 0, 0
    if not wanted:
        return {"files_changed": 0, "lines_removed": 0}
    for path in _files(res):
        removed, sha256 = _scrub(path, wanted)
        if not removed:
            continue
        changed += 1
        lines += removed
        if "exports" in path.parts:
            sidecar = path.with_name(path.name + SIDECAR)
            before = json.loads(sidecar.read_text()) if sidecar.exists() else {}
            sidecar.write_text(json.dumps({
                "rows_erased": before.get("rows_erased", 0) + removed,
                "sha256": sha256,
                "bytes": path.stat().st_size,
            }) + "\n")  # fmt: skip
    if changed:
        logger.info("erasure removed %d lines from %d files", lines, changed)
    return {"files_changed": changed, "lines_removed": lines}


def erasure_of(export_file: Path) -> dict[str, Any] | None:
    """What erasures changed in a finished export file (None: nothing)."""
    sidecar = export_file.with_name(export_file.name + SIDECAR)
    return json.loads(sidecar.read_text()) if sidecar.exists() else None
