"""Marketing: ``segments``, ``rfm`` and ``export`` (profiles and audiences)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import click

from app.audiences import FORMATS as AUDIENCE_FORMATS
from app.cli.progress import progress_bar, progress_option
from app.cli.support import config_of as _config
from app.cli.support import (
    json_argument,
)
from app.cli.support import reports_errors as _errors
from app.resources import open_resources
from graph.errors import InputError

logger = logging.getLogger(__name__)

#: ``--min-confidence`` for member lists and exports (app/confidence.py)
min_confidence_option = click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Identifiers as they stand without links below this confidence.",
)


@click.group()
def export() -> None:
    """Write profiles or audiences to files."""


@export.command("profiles")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@progress_option
@click.pass_context
@_errors
def export_profiles(ctx: click.Context, output: Path, progress: bool | None) -> None:
    """JSON Lines, one profile a line; every strong identifier in exactly one line."""
    from app.exports import write_profiles

    with open_resources(_config(ctx)) as res, progress_bar(progress) as bar:
        count = write_profiles(res.store, res.registry, output, progress=bar)
    click.echo(f"{count} profiles written to {output}")


@export.command("audience")
@click.argument("segment_id")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(sorted(AUDIENCE_FORMATS)),
    help="Hashed lists for Google/Meta, or plain csv/jsonl (README: Audience exports).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here now (without --background).",
)
@click.option("--trait", "traits", multiple=True, help="csv/jsonl: a trait to include.")
@click.option("--background", is_flag=True, help="Queue it for `idgraph worker` instead.")
@min_confidence_option
@click.option("--household", is_flag=True, help="One row per household (profiles sharing a home).")
@progress_option
@click.pass_context
@_errors
def export_audience(
    ctx: click.Context,
    segment_id: str,
    fmt: str,
    output: Path | None,
    traits: tuple[str, ...],
    background: bool,
    min_confidence: float,
    household: bool,
    progress: bool | None,
) -> None:
    """A segment's members as an audience file."""
    from app.audiences import write_audience
    from app.export_jobs import start_export

    with open_resources(_config(ctx)) as res:
        if background:
            status = start_export(res, segment_id, fmt, traits, min_confidence=min_confidence,
                                  household=household)  # fmt: skip
            click.echo(f"export queued as {status['export_id']} (follow it with `idgraph jobs`)")
            return
        if output is None:
            raise InputError("--output is required unless --background", field="output")
        from app.segments import count_members

        with progress_bar(progress) as bar:
            total = count_members(res, segment_id)["count"] if bar.enabled else None

            def report(rows: int, skipped: int, seen: int) -> None:
                bar("exporting members", seen, total)

            result = write_audience(res, segment_id, fmt, output, traits=traits, progress=report,
                                    min_confidence=min_confidence,
                                    household=household)  # fmt: skip
    click.echo(
        f"{result.rows} rows written to {output} ({result.skipped} members skipped: "
        f"no value the format needs); sha256 {result.sha256}"
    )


@click.group()
def segments() -> None:
    """Segments: JSON rules over profile facts, traits, RFM and identifiers."""


@segments.command("list")
@click.pass_context
@_errors
def segments_list(ctx: click.Context) -> None:
    """Every segment: ID, name and rule in words."""
    from app.segments import list_segments

    with open_resources(_config(ctx)) as res:
        for segment in list_segments(res):
            click.echo(f"{segment['segment_id']}  {segment['name']}: {segment['summary']}")


@segments.command("create")
@click.option("--name", required=True)
@click.option(
    "--rule", "rule_text", required=True, help="The rule as JSON, or @file.json (README: Segments)."
)
@click.option("--description", default="")
@click.pass_context
@_errors
def segments_create(ctx: click.Context, name: str, rule_text: str, description: str) -> None:
    """Define a segment; prints it as JSON (with its ID)."""
    from app.segments import create_segment

    rule = json_argument(rule_text, "rule")
    with open_resources(_config(ctx)) as res:
        segment = create_segment(res, {"name": name, "rule": rule, "description": description})
    click.echo(json.dumps(segment, indent=2, ensure_ascii=False))


@segments.command("show")
@click.argument("segment_id")
@click.pass_context
@_errors
def segments_show(ctx: click.Context, segment_id: str) -> None:
    """A segment and its member count now."""
    from app.segments import count_members, get_segment

    with open_resources(_config(ctx)) as res:
        segment = get_segment(res, segment_id)
        segment["count"] = count_members(res, segment_id)["count"]
    click.echo(json.dumps(segment, indent=2, ensure_ascii=False))


@segments.command("members")
@click.argument("segment_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--after", default="", help="The `next` cursor of the previous page.")
@min_confidence_option
@click.pass_context
@_errors
def segments_members(ctx: click.Context, segment_id: str, limit: int, after: str,
                     min_confidence: float) -> None:  # fmt: skip
    """A page of members (JSON), in profile ID order."""
    from app.segments import member_page

    with open_resources(_config(ctx)) as res:
        page = member_page(res, segment_id, after=after, limit=limit,
                           min_confidence=min_confidence)  # fmt: skip
    click.echo(json.dumps(page, indent=2, ensure_ascii=False))


@segments.command("delete")
@click.argument("segment_id")
@click.pass_context
@_errors
def segments_delete(ctx: click.Context, segment_id: str) -> None:
    from app.segments import delete_segment

    with open_resources(_config(ctx)) as res:
        delete_segment(res, segment_id)
    click.echo(f"segment {segment_id} deleted")


@click.command()
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Reference date (UTC); default: now.",
)
@click.option("--background", is_flag=True, help="Queue it for `idgraph worker` instead.")
@progress_option
@click.pass_context
@_errors
def rfm(
    ctx: click.Context, as_of: datetime | None, background: bool, progress: bool | None
) -> None:
    """Recompute RFM scores and groups of every profile (kept on the profiles)."""
    from app.jobs import enqueue_rfm
    from app.rfm import run_rfm

    when = int(as_of.replace(tzinfo=UTC).timestamp() * 1000) if as_of else None
    with open_resources(_config(ctx)) as res:
        if background:
            job_id = enqueue_rfm(res.redis, res.config.graph_name, as_of=when)
            click.echo(f"RFM queued as job {job_id}")
            return
        with progress_bar(progress) as bar:
            summary = run_rfm(res, as_of=when, progress=bar)
    groups = ", ".join(f"{g} {n}" for g, n in summary["groups"].items() if n)
    click.echo(f"{summary['purchasers']} purchasers scored as of {summary['as_of']}: {groups}")
