"""The ``idgraph`` command line."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click

from app.access.audit import audit_trail, cli_actor
from app.access.commands import audit, keys
from app.audiences import FORMATS as AUDIENCE_FORMATS
from app.cli_support import (
    EXIT_NOT_FOUND,
    EXIT_TARGET_UNREACHABLE,
)
from app.cli_support import config_of as _config
from app.cli_support import reports_errors as _errors
from app.config import Config
from app.logs import configure_logging
from app.profiles import lookup_identifier
from app.resources import Resources, open_resources
from graph.embedded import EmbeddedServer
from graph.errors import IdgraphError, InputError, NotFound
from graph.ingest import IngestReport, RejectFile
from graph.privacy import mask_value
from graph.readers import FORMATS, detect_format, read_records
from graph.resolution import resolve as resolve_profiles
from graph.segment_messages import SegmentMapping, translate_records
from ml.worlds import BENCH_WORLDS as WORLD_NAMES

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: the demo writes to a graph of its own, so it never clears a user's data
DEMO_GRAPH = "idgraph_demo"
#: segments the demo defines, to have something to browse and export
DEMO_SEGMENTS = (
    ("Champions and loyal, with an e-mail", {"and": [
        {"field": "rfm.group", "op": "in", "value": ["Champions", "Loyal"]}, {"has": "email"}]}),
    ("Bought at the till at least twice", {
        "events": {"type": "purchase", "source": "pos"}, "op": ">=", "value": 2}),
)  # fmt: skip


def main() -> None:
    """Console-script entry point."""

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # run `finally` blocks: stop the embedded store

    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="idgraph")


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Overrides IDGRAPH_DATA_DIR.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, data_dir: str | None, verbose: int) -> None:
    """idgraph: events in, one profile per customer out."""
    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    try:
        config = Config.load(config_path, overrides=overrides)
    except IdgraphError as e:
        raise click.UsageError(str(e)) from e
    level = [config.log_level, "INFO", "DEBUG"][min(verbose, 2)]
    configure_logging(level)
    ctx.obj = config


# -- store -------------------------------------------------------------------
@cli.group()
def store() -> None:
    """Run the embedded FalkorDB server (also the Redis for jobs)."""


@store.command("start")
@click.pass_context
@_errors
def store_start(ctx: click.Context) -> None:
    """Start the embedded store in the data dir and leave it running."""
    config = _config(ctx)
    if not config.uses_embedded_store:
        raise InputError("graph_url and redis_url point at external servers; nothing to start")
    status = EmbeddedServer(config.data_dir).start()
    click.echo(f"embedded store running, pid {status.pid}, at {status.address.describe()}")


@store.command("stop")
@click.pass_context
@_errors
def store_stop(ctx: click.Context) -> None:
    """Stop the embedded store (data stays on disk)."""
    stopped = EmbeddedServer(_config(ctx).data_dir).stop()
    click.echo("stopped" if stopped else "not running")


@store.command("status")
@click.pass_context
@_errors
def store_status(ctx: click.Context) -> None:
    """Say whether the embedded store runs; exit 3 when it does not."""
    config = _config(ctx)
    status = EmbeddedServer(config.data_dir).status()
    if status is None:
        click.echo(f"not running (data dir {config.data_dir.resolve()})")
        sys.exit(EXIT_NOT_FOUND)
    click.echo(f"running, pid {status.pid}, at {status.address.describe()}")


@store.command("init")
@click.pass_context
@_errors
def store_init(ctx: click.Context) -> None:
    """Create constraints and indexes (idempotent; also done on every start)."""
    with open_resources(_config(ctx)) as res:
        click.echo(f"schema ready on {res.store.describe()}")


@store.command("stats")
@click.pass_context
@_errors
def store_stats(ctx: click.Context) -> None:
    """Node and relationship counts."""
    with open_resources(_config(ctx)) as res:
        click.echo(json.dumps(res.store.stats(), indent=2))


# -- ingest / resolve --------------------------------------------------------
@cli.command()
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
            _print_report(path, report)


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


def _print_report(path: Path, report: IngestReport) -> None:
    rate = report.records / report.seconds if report.seconds else 0.0
    click.echo(
        f"{path}: {report.records} records, {report.accepted} accepted, "
        f"{report.duplicates} duplicates, {report.rejected} rejected, "
        f"{report.rejected_parts} rejected identifiers/fields in accepted events "
        f"({report.seconds:.1f}s, {rate:,.0f} records/s)"
    )
    if report.rejects_path:
        click.echo(f"rejects written to {report.rejects_path}")


@cli.command()
@click.option("--background", is_flag=True, help="Queue it for `idgraph worker` instead.")
@click.pass_context
@_errors
def resolve(ctx: click.Context, background: bool) -> None:
    """Rebuild profiles from deterministic links between strong identifiers."""
    if background:
        from app.jobs import enqueue_resolve

        with open_resources(_config(ctx)) as res:
            job_id = enqueue_resolve(res.redis)
        click.echo(f"resolve queued as job {job_id}")
        return
    from app.linking import resolve_all

    with open_resources(_config(ctx)) as res:
        report = resolve_all(res)
    click.echo(
        f"{report.profiles} profiles from {report.identifiers} identifiers, {report.links} links "
        f"in {report.seconds:.1f}s: largest {report.largest_profile}, "
        f"{report.moved} identifiers moved, {report.merged} profiles merged, "
        f"{report.split} split off, {report.conflicts} links refused, "
        f"{report.quarantined} identifiers quarantined"
    )
    if report.model is None:
        click.echo("no link model yet: deterministic links only (`idgraph train` makes one)")
    else:
        m = report.model
        to_profiles, to_devices = m["profile"], m["device"]
        chains = m["browser"]
        if chains["applied"]:
            click.echo(
                f"link model: {m['applied']} model links applied; browser chains (estimated "
                f"precision {chains['precision']:.4f}): {chains['accepted']} links proposed, "
                "the model's other families superseded"
            )
            return
        if chains["trained"]:
            click.echo(
                f"warning: browser chains not applied: on the current data their estimated "
                f"precision (95% lower bound {chains['precision_lower_bound']:.4f}) is below the "
                "target; the model's other families decide",
                err=True,
            )
        click.echo(
            f"link model: {m['anonymous_clusters']} anonymous clusters, {m['applied']} model "
            f"links applied; to profiles: {to_profiles['accepted']} accepted, "
            f"{to_profiles['ambiguous']} ambiguous, {to_profiles['below_threshold']} below "
            f"threshold ({to_profiles['pairs']} pairs); to a cookie of the same browser: "
            f"{to_devices['accepted']} accepted ({to_devices['pairs']} pairs); "
            f"{m['excluded_ips']} IPs over the cap"
        )


@cli.command()
@click.argument("type_name", metavar="TYPE")
@click.argument("value")
@click.pass_context
@_errors
def lookup(ctx: click.Context, type_name: str, value: str) -> None:
    """The profile of one identifier, as JSON (exit 3 when not found)."""
    with open_resources(_config(ctx)) as res:
        result = lookup_identifier(res.store, res.registry, type_name, value)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@cli.command()
@click.pass_context
@_errors
def train(ctx: click.Context) -> None:
    """Train the link model from the current graph (used by the next `idgraph resolve`).

    Exits with code 5, saying why on stderr and keeping the previous model, when
    no threshold reaches the target precision (IDGRAPH_LINK_TARGET_PRECISION).
    """
    from app.linking import train as train_link_model
    from ml.training import TargetUnreachable

    with open_resources(_config(ctx)) as res:
        try:
            metadata = train_link_model(res)
        except TargetUnreachable as e:
            click.echo(f"error: link model not saved: {e}. The previous model (if any) is "
                       "kept; the attempt's report is in last-failed-train.json beside it.",
                       err=True)  # fmt: skip
            sys.exit(EXIT_TARGET_UNREACHABLE)
    held_out = metadata["held_out"]
    click.echo(
        f"link model {metadata['version']}: {metadata['pairs']['train']} pairs from "
        f"{metadata['customers']} customers; out-of-fold ROC AUC {held_out['roc_auc']:.4f}, "
        f"average precision {held_out['average_precision']:.4f}; {metadata['seconds']}s"
    )
    for family, estimate in metadata["estimated"].items():
        threshold = metadata["thresholds"][family]
        if family == "browser":
            from ml.model_card import browser_why

            click.echo(f"  browser chains: {browser_why(estimate)}",
                       err=not estimate["reached"])  # fmt: skip
        elif estimate["reached"]:
            click.echo(
                f"  {family} links: threshold {threshold:.3f}, estimated precision "
                f"{estimate['precision']:.4f}, recall {estimate['recall']:.4f}"
            )
        else:
            best = estimate["best_reachable"]
            click.echo(
                f"warning: {family} links: no threshold reaches {estimate['target']} (best "
                f"{best['precision_lower_bound']:.4f} at recall {best['recall']:.4f}); this "
                "model links no anonymous cluster to "
                + ("a profile" if family == "profile" else "another cookie of its browser"),
                err=True,
            )
    click.echo(f"saved to {metadata['path']} (card: `idgraph model show`); run `idgraph resolve`")


@cli.group()
def model() -> None:
    """The link model."""


@model.command("show")
@click.option("--json", "as_json", is_flag=True, help="The whole card as JSON.")
@click.pass_context
@_errors
def model_show(ctx: click.Context, as_json: bool) -> None:
    """Print the current model's card: data, features, thresholds and why, importances."""
    from app.linking import model_card

    with open_resources(_config(ctx)) as res:
        body = model_card(res)
    if as_json:
        click.echo(json.dumps(body, indent=2, default=str))
        return
    card = body["card"] or {}
    click.echo(f"link model {body['version']} in {body['path']}")
    data = card.get("data", {})
    click.echo(f"  data: {data.get('observations')} observations, {data.get('customers')} "
               f"customers, queries {data.get('queries')}, pairs {data.get('pairs')}")  # fmt: skip
    metrics = card.get("pair_metrics_out_of_fold") or {}
    click.echo(f"  out of fold: ROC AUC {metrics.get('roc_auc', float('nan')):.4f}, average "
               f"precision {metrics.get('average_precision', float('nan')):.4f}")  # fmt: skip
    for family, entry in card.get("thresholds", {}).items():
        click.echo(f"  {family}: threshold {entry['threshold']:.3f} — {entry['why']}")
    top = list(card.get("permutation_importance", {}).items())[:8]
    if top:
        click.echo("  most important features (drop in average precision when shuffled):")
        for name, value in top:
            click.echo(f"    {name:32s} {value['mean']:+.4f} ± {value['std']:.4f}")
    images = card.get("images", {})
    click.echo(f"  images: {', '.join(images.values())} (in {body['path']})")
    if body.get("last_failed_train"):
        click.echo(f"  last training failed (model kept): {body['last_failed_train']['error']}")


@cli.command()
@click.argument("type_name", metavar="TYPE")
@click.argument("value")
@click.pass_context
@_errors
def explain(ctx: click.Context, type_name: str, value: str) -> None:
    """Why an identifier is in its profile: links, evidence, refused links (JSON)."""
    from app.explain import explain as explain_identifier

    with open_resources(_config(ctx)) as res:
        result = explain_identifier(res.store, res.registry, type_name, value)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@cli.group()
def erase() -> None:
    """Erase customers' data (right to be forgotten); only salted hashes remain."""


@erase.command("profile")
@click.argument("profile_id")
@click.pass_context
@_errors
def erase_profile_command(ctx: click.Context, profile_id: str) -> None:
    """Erase a profile: its identifiers, their events, the profile and its former IDs."""
    from app.erasure import erase_profile

    with open_resources(_config(ctx)) as res:
        result = erase_profile(res, profile_id)
        _audit(res, "erase profile", f"profile:{profile_id}")
    click.echo(json.dumps(result, indent=2))


@erase.command("identifier")
@click.argument("type_name", metavar="TYPE")
@click.argument("value")
@click.pass_context
@_errors
def erase_identifier_command(ctx: click.Context, type_name: str, value: str) -> None:
    """Erase one identifier and its events; its profile is re-resolved."""
    from app.erasure import erase_identifier

    with open_resources(_config(ctx)) as res:
        result = erase_identifier(res, type_name, value)
        _audit(res, "erase identifier", f"{type_name}:{mask_value(type_name, value)}")
    click.echo(json.dumps(result, indent=2))


def _audit(res: Resources, action: str, target: str) -> None:
    """Record a command's change in the audit trail, as ``cli:<os user>``."""
    audit_trail(res).record(cli_actor(), action, target)


@cli.group()
def quarantine() -> None:
    """Identifiers linked to too many customers to be used for linking."""


@quarantine.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.pass_context
@_errors
def quarantine_list(ctx: click.Context, limit: int) -> None:
    """Quarantined identifiers and overrides, most linked first (as of the last resolve)."""
    with open_resources(_config(ctx)) as res:
        rows = res.store.quarantine_list(limit=limit)
    if not rows:
        click.echo("nothing is quarantined")
    for row in rows:
        state = "quarantined" if row["quarantined"] else "linking"
        override = f" (override: {row['override']})" if row["override"] else ""
        click.echo(f"{row['type']}\t{row['value']}\tdegree {row['degree']}\t{state}{override}")


@quarantine.command("set")
@click.argument("override", type=click.Choice(["force", "release", "auto"]))
@click.argument("type_name", metavar="TYPE")
@click.argument("value")
@click.pass_context
@_errors
def quarantine_set(ctx: click.Context, override: str, type_name: str, value: str) -> None:
    """force: always quarantine; release: never; auto: the thresholds decide."""
    from app.profiles import normalize_query

    with open_resources(_config(ctx)) as res:
        identifier = normalize_query(res.registry, type_name, value)
        if not res.store.set_quarantine_override(
            identifier, None if override == "auto" else override
        ):
            raise NotFound(f"no {identifier.type} identifier with that value has been seen")
        _audit(res, f"quarantine {override}",
               f"{identifier.type}:{mask_value(identifier.type, identifier.value)}")  # fmt: skip
    click.echo(f"{identifier.type} {override}; takes effect at the next `idgraph resolve`")


@cli.command()
@click.option("--truth", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.pass_context
@_errors
def evaluate(ctx: click.Context, truth: Path, as_json: bool) -> None:
    """Quality of the current profiles against ground truth (truth.csv of `generate`)."""
    from ml.evaluation import baselines, read_truth
    from ml.evaluation import evaluate as evaluate_profiles

    if not truth.is_file():
        raise InputError(f"cannot read {truth}: no such file")
    answers = read_truth(truth)
    with open_resources(_config(ctx)) as res:
        results = {"idgraph profiles": evaluate_profiles(res.store.assignments(), answers)}
        for name, assignment in baselines(res.store, res.registry).items():
            results[name + " (baseline)"] = evaluate_profiles(assignment, answers)
    if as_json:
        click.echo(json.dumps({k: q.to_dict() for k, q in results.items()}, indent=2))
        return
    names = list(results)
    click.echo(f"{'':22} " + " ".join(f"{n:>30}" for n in names))
    for metric in results[names[0]].to_dict():
        cells = []
        for name in names:
            number = results[name].to_dict()[metric]
            cells.append(f"{number:>30.4f}" if isinstance(number, float) else f"{number:>30}")
        click.echo(f"{metric:22} " + " ".join(cells))


# -- export ------------------------------------------------------------------
@cli.group()
def export() -> None:
    """Write profiles or audiences to files."""


@export.command("profiles")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@_errors
def export_profiles(ctx: click.Context, output: Path) -> None:
    """JSON Lines, one profile a line; every strong identifier in exactly one line."""
    from app.exports import write_profiles

    with open_resources(_config(ctx)) as res:
        count = write_profiles(res.store, res.registry, output)
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
@click.pass_context
@_errors
def export_audience(
    ctx: click.Context,
    segment_id: str,
    fmt: str,
    output: Path | None,
    traits: tuple[str, ...],
    background: bool,
) -> None:
    """A segment's members as an audience file."""
    from app.audiences import start_export, write_audience

    with open_resources(_config(ctx)) as res:
        if background:
            status = start_export(res, segment_id, fmt, traits)
            click.echo(f"export queued as {status['export_id']} (follow it with `idgraph jobs`)")
            return
        if output is None:
            raise InputError("--output is required unless --background", field="output")
        result = write_audience(res, segment_id, fmt, output, traits=traits)
    click.echo(
        f"{result.rows} rows written to {output} ({result.skipped} members skipped: "
        f"no value the format needs); sha256 {result.sha256}"
    )


# -- segments and RFM --------------------------------------------------------------
@cli.group()
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

    rule = _json_argument(rule_text, "rule")
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
@click.pass_context
@_errors
def segments_members(ctx: click.Context, segment_id: str, limit: int, after: str) -> None:
    """A page of members (JSON), in profile ID order."""
    from app.segments import member_page

    with open_resources(_config(ctx)) as res:
        page = member_page(res, segment_id, after=after, limit=limit)
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


@cli.command()
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Reference date (UTC); default: now.",
)
@click.option("--background", is_flag=True, help="Queue it for `idgraph worker` instead.")
@click.pass_context
@_errors
def rfm(ctx: click.Context, as_of: datetime | None, background: bool) -> None:
    """Recompute RFM scores and groups of every profile (kept on the profiles)."""
    from app.jobs import enqueue_rfm
    from app.rfm import run_rfm

    when = int(as_of.replace(tzinfo=UTC).timestamp() * 1000) if as_of else None
    with open_resources(_config(ctx)) as res:
        if background:
            job_id = enqueue_rfm(res.redis, res.config.graph_name, as_of=when)
            click.echo(f"RFM queued as job {job_id}")
            return
        summary = run_rfm(res, as_of=when)
    groups = ", ".join(f"{g} {n}" for g, n in summary["groups"].items() if n)
    click.echo(f"{summary['purchasers']} purchasers scored as of {summary['as_of']}: {groups}")


def _json_argument(text: str, name: str) -> Any:
    """JSON from an option value, or from a file with ``@path``."""
    try:
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise InputError(f"--{name}: cannot read {text[1:]}: {e}", field=name) from e
    except ValueError as e:
        raise InputError(f"--{name} is not valid JSON: {e}", field=name) from e


# -- data --------------------------------------------------------------------
@cli.command()
@click.option("--persons", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--days", type=click.IntRange(min=14), default=90, show_default=True)
@click.option(
    "--world",
    type=click.Choice(sorted(WORLD_NAMES)),
    help="Start from a named world of bench/quality.py (its seed and size unless given).",
)
@click.pass_context
def generate(
    ctx: click.Context, persons: int, output: Path, seed: int, days: int, world: str | None
) -> None:
    """Synthetic events (events.jsonl) with ground truth (truth.csv) and expected counts."""
    from ml.synthetic import generate as generate_data
    from ml.worlds import WorldParams
    from ml.worlds import world as named_world

    params = named_world(world) if world else WorldParams()
    given: dict[str, Any] = {
        name: value
        for name, value in (("persons", persons), ("seed", seed), ("days", days))
        if not world or ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
    }
    data = generate_data(output, params=params.replace(**given))
    persons = data.manifest["persons"]
    expected = data.manifest["expected"]
    click.echo(
        f"{expected['lines']} lines for {persons} persons in {data.events_path} "
        f"(expect {expected['accepted']} accepted, {expected['duplicates']} duplicates, "
        f"{expected['rejected']} rejected); truth in {data.truth_path}"
    )


# -- jobs --------------------------------------------------------------------
@cli.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.pass_context
@_errors
def worker(ctx: click.Context, burst: bool) -> None:
    """Run an rq worker for idgraph's background jobs (resolve, exports)."""
    from rq import Queue, Worker

    from app.jobs import QUEUE_NAME

    with open_resources(_config(ctx)) as res:
        queue = Queue(QUEUE_NAME, connection=res.redis)
        click.echo(f"worker on queue {QUEUE_NAME!r} ({res.store.describe()})")
        Worker([queue], connection=res.redis).work(burst=burst, with_scheduler=True)


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@click.pass_context
@_errors
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent background jobs (queued, running, waiting to retry, finished, failed)."""
    from app.jobs import recent_jobs

    with open_resources(_config(ctx)) as res:
        found = recent_jobs(res.redis, limit=limit)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no jobs")
    for job in found:
        progress = job["progress"] or {}
        done = f" {progress.get('rows', 0)} rows" if progress else ""
        error = f"  error: {job['error']}" if job["error"] else ""
        click.echo(
            f"{job['id']}  {job['kind']:<8} {job['status']:<9} {job['enqueued_at'] or '-'}"
            f"{done}  {job['description']}{error}"
        )


# -- serving -----------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--threads", default=8, type=int, show_default=True)
@click.pass_context
@_errors
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Serve the HTTP API with a production WSGI server (waitress)."""
    _serve(_config(ctx), host, port, threads)


def _serve(config: Config, host: str, port: int, threads: int) -> None:
    with open_resources(config) as res:
        if config.admin_key_file:
            _import_admin_key(res, Path(config.admin_key_file))
        _refuse_open_without_keys(res, host)
        _serve_with(res, host, port, threads)


def _import_admin_key(res: Resources, path: Path) -> None:
    """The deployment's admin key from a secret file (all scopes; idempotent)."""
    from app.access.keys import SCOPES, import_key

    try:
        key = path.read_text()
    except OSError as e:
        raise InputError(f"admin_key_file {path}: {e.strerror or e}") from e
    if import_key(res.store, "admin", key, SCOPES) is not None:
        _audit(res, "keys import", "key:admin")
        click.echo("imported the admin key from admin_key_file")


def _refuse_open_without_keys(res: Resources, host: str) -> None:
    """Listening beyond this machine while no key exists would serve nobody safely."""
    import ipaddress

    from app.access.keys import status_of

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not any(status_of(k) == "active" for k in res.store.api_keys()):
        raise InputError(
            f"refusing to listen on {host}: no API key exists yet, so nobody could use the "
            "API. Create one first (`idgraph keys create --name NAME --scope read`), or "
            "serve on 127.0.0.1"
        )


def _serve_with(res: Any, host: str, port: int, threads: int, banner: str = "") -> None:
    from waitress import serve as waitress_serve

    from app.api import create_app

    app = create_app(res.config, resources=res)
    click.echo(f"{banner}idgraph API on http://{host}:{port}/  (docs: http://{host}:{port}/docs)")
    click.echo("press Ctrl-C to stop")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="idgraph")
    except KeyboardInterrupt:
        pass
    except OSError as e:
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


@cli.command()
@click.option("--persons", type=click.IntRange(min=10), default=2000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after resolving (for scripts).")
@click.pass_context
@_errors
def demo(ctx: click.Context, persons: int, host: str, port: int, no_serve: bool) -> None:
    """Generate data, ingest it, resolve profiles and serve the API."""
    from ml.synthetic import generate as generate_data

    config = _config(ctx)
    config = config.replace(graph_name=DEMO_GRAPH)
    out = config.data_dir / "demo"
    click.echo(f"generating events for {persons} persons in {out} …")
    data = generate_data(out, persons=persons)
    with open_resources(config) as res:
        res.store.delete_all()
        started = time.perf_counter()
        report = res.ingester().ingest_records(
            read_records(data.events_path, "jsonl"),
            rejects=RejectFile(out / "rejects.jsonl", source=str(data.events_path)),
        )
        _print_report(data.events_path, report)
        result = resolve_profiles(res.store, res.registry, res.resolve_settings())
        click.echo(
            f"resolved {result.profiles} profiles (largest {result.largest_profile}) "
            f"in {time.perf_counter() - started:.1f}s total"
        )
        from app.rfm import run_rfm
        from app.segments import count_members, create_segment

        summary = run_rfm(res)
        click.echo(f"RFM: {summary['purchasers']} purchasers scored")
        hints = []
        for name, rule in DEMO_SEGMENTS:
            segment = create_segment(res, {"name": name, "rule": rule})
            members = count_members(res, segment["segment_id"])["count"]
            click.echo(f"segment {segment['segment_id']} {name!r}: {members} profiles")
            hints.append(f"  <api>/v1/segments/{segment['segment_id']}/members")
        # the command as it was started (scripts/demo.sh runs .venv/bin/idgraph)
        command = sys.argv[0] if Path(sys.argv[0]).name == "idgraph" else "idgraph"
        for type_name in ("email", "phone", "user_id"):
            for value in res.store.sample_identifiers(type_name, 1):
                hints.append(f"  <api>/v1/identifiers/{type_name}/{value}/profile")
                hints.append(
                    f"  IDGRAPH_GRAPH_NAME={DEMO_GRAPH} {command} lookup {type_name} '{value}'"
                )
        from app.access.keys import SCOPES, create_key

        key, _ = create_key(res.store, "demo", SCOPES)
        banner = (
            f"API key for this demo (every scope; `idgraph keys list` shows it, never the "
            f"key): {key}\n"
            f"send it as the header  Authorization: Bearer {key}\n"
            f"e.g.  curl -H 'Authorization: Bearer {key}' "
            "<api>/v1/identifiers/…/profile\n"
            "try:\n" + "\n".join(hints) + "\n"
        )
        if no_serve:
            click.echo(banner)
            return
        _serve_with(res, host, port, 8, banner=banner.replace("<api>", f"http://{host}:{port}"))


cli.add_command(keys)
cli.add_command(audit)
