"""``idgraph ingest``: event files (JSON Lines, CSV, Segment dumps) into the graph."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from app.cli.support import config_of as _config
from app.cli.support import reports_errors as _errors
from app.resources import open_resources
from graph.errors import InputError
from graph.ingest.ingester import IngestReport, RejectFile
from graph.ingest.readers import FORMATS, detect_format, read_records
from graph.ingest.segment_messages import SegmentMapping, translate_records

logger = logging.getLogger(__name__)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the extension.")
@click.option("--progress/--no-progress", default=None, help="Default: on when stderr is a tty.")
@click.pass_context
@_errors
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], fmt: str | None, progress: bool | None
) -> None:
    """Ingest JSON Lines or CSV event files, or (--format segment) JSON Lines of
    Segment-spec messages, e.g. a warehouse or bucket dump.

    Prints accepted / rejected / duplicate counts and where the rejects were
    written. Exit 0 when every file was processed (even with rejects),
    non-zero when a file could not be read.
    """
    config = _config(ctx)
    formats = {path: detect_format(path, fmt) for path in paths}
    for path in paths:
        if not path.is_file():
            raise InputError(f"cannot read {path}: no such file")
    show = sys.stderr.isatty() if progress is None else progress
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with open_resources(config) as res:
        ingester = res.ingester()
        mapping = res.segment_mapping if "segment" in formats.values() else None
        for path in paths:
            rejects = RejectFile(
                config.data_dir / "rejects" / f"{path.name}.{stamp}.jsonl", source=str(path)
            )
            report = _ingest_file(ingester, path, formats[path], rejects, show, mapping)
            print_report(path, report)


def _ingest_file(
    ingester: Any,
    path: Path,
    fmt: str,
    rejects: RejectFile,
    show: bool,
    mapping: SegmentMapping | None = None,
) -> IngestReport:
    from tqdm import tqdm

    with tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=path.name,
        disable=not show,
        leave=False,
    ) as bar:
        records = read_records(path, fmt, on_progress=bar.update)
        if fmt == "segment" and mapping is not None:
            # a dump's messages carry their own receivedAt: no server clock here
            records = translate_records(records, mapping)
        report: IngestReport = ingester.ingest_records(records, rejects=rejects)
    return report


def print_report(path: Path, report: IngestReport) -> None:
    rate = report.records / report.seconds if report.seconds else 0.0
    click.echo(
        f"{path}: {report.records} records, {report.accepted} accepted, "
        f"{report.duplicates} duplicates, {report.rejected} rejected, "
        f"{report.rejected_parts} rejected identifiers/fields in accepted events "
        f"({report.seconds:.1f}s, {rate:,.0f} records/s)"
    )
    if report.rejects_path:
        click.echo(f"rejects written to {report.rejects_path}")
