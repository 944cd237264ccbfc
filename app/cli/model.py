"""Resolution and the link model: ``resolve``, ``train``, ``model show``, ``evaluate``,
``generate`` (synthetic worlds with ground truth)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from app.cli.progress import progress_bar, progress_option
from app.cli.support import (
    EXIT_TARGET_UNREACHABLE,
)
from app.cli.support import config_of as _config
from app.cli.support import reports_errors as _errors
from app.config import Config
from app.resources import open_resources
from graph.errors import InputError
from ml.worlds import BENCH_WORLDS as WORLD_NAMES

logger = logging.getLogger(__name__)


@click.command()
@click.option("--background", is_flag=True, help="Queue it for `idgraph worker` instead.")
@click.option("--full", is_flag=True,
              help="Rebuild every profile (and re-run the link model) even when only part "
              "of the graph changed since the last resolve.")  # fmt: skip
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compute what would change (summary, JSON Lines diff); write nothing.",
)
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE",
              help="--dry-run with a setting changed (as in the config file; repeatable), "
              "e.g. profile_limits=email=1.")  # fmt: skip
@click.option("--model", "model_path", type=click.Path(file_okay=False, path_type=Path),
              help="--dry-run with the model saved in this folder.")  # fmt: skip
@click.option(
    "--diff",
    "diff_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="--dry-run: where to write the diff (default: <data dir>/previews/).",
)
@progress_option
@click.pass_context
@_errors
def resolve(
    ctx: click.Context,
    background: bool,
    full: bool,
    dry_run: bool,
    changes: tuple[str, ...],
    model_path: Path | None,
    diff_path: Path | None,
    progress: bool | None,
) -> None:
    """Rebuild profiles from deterministic links between strong identifiers.

    With --dry-run, compute the resolution that would follow (from changed settings
    or another model) and what it would change, without writing to the graph."""
    if (changes or model_path or diff_path) and not dry_run:
        raise InputError("--set, --model and --diff go with --dry-run", field="dry_run")
    if dry_run:
        _dry_run(_config(ctx), changes, model_path, diff_path, progress)
        return
    if background:
        from app.jobs import enqueue_resolve

        with open_resources(_config(ctx)) as res:
            job_id = enqueue_resolve(res.redis, full=full)
        click.echo(f"resolve queued as job {job_id}")
        return
    from app.linking import resolve_all

    with open_resources(_config(ctx)) as res, progress_bar(progress) as bar:
        report = resolve_all(res, progress=bar, full=full)
    if report.mode == "unchanged":
        click.echo(f"nothing to resolve: {report.reason} ({report.seconds:.2f}s; "
                   "`idgraph resolve --full` rebuilds all)")  # fmt: skip
        return
    if report.mode == "incremental":
        click.echo(f"incremental resolve: {report.reason}; re-planned with their neighbourhood, "
                   f"{report.facts_refreshed} profiles' facts refreshed ({report.facts_added} "
                   "by adding their new events)")  # fmt: skip
    else:
        click.echo(f"full resolve: {report.reason}; {report.facts_refreshed} profiles' facts "
                   f"refreshed ({report.facts_added} by adding their new events)")  # fmt: skip
    click.echo(
        f"{report.profiles} profiles from {report.identifiers} identifiers, {report.links} links "
        f"in {report.seconds:.1f}s: largest {report.largest_profile}, "
        f"{report.moved} identifiers moved, {report.merged} profiles merged, "
        f"{report.split} split off, {report.conflicts} links refused, "
        f"{report.quarantined} identifiers quarantined"
    )
    if report.households is not None:
        h = report.households
        click.echo(f"households: {h['households']} ({h['profiles_in_households']} profiles, "
                   f"{h['shared_devices']} shared devices)")  # fmt: skip
    # graph-health alarms are logged (WARNING, on stderr) by app.linking.record_health
    if report.mode == "incremental":
        if report.model is not None:
            click.echo("link model: not re-run; the links it accepted stay, identifiers new since "
                       "the last full resolve are scored at the next one")  # fmt: skip
        return
    if report.model is None:
        click.echo("no link model yet: deterministic links only (`idgraph train` makes one)")
    else:
        m = report.model
        to_profiles, to_devices = m["profile"], m["device"]
        chains = m["browser"]
        if chains["applied"]:
            kept = chains.get("kept")
            click.echo(
                f"link model: {m['applied']} model links applied; browser chains (estimated "
                f"precision {chains['precision']:.4f}): {chains['accepted']} links proposed"
                + (f" from the {kept['groups']} of {kept['of']} groups whose wrong ones the "
                   "room under the profiles' precision target holds" if kept else "")
                + ", the model's other families superseded"
            )  # fmt: skip
            return
        if chains["trained"]:
            why = _chains_refused(chains)
            click.echo(
                f"warning: browser chains not applied: on the current data their estimated "
                f"precision (95% lower bound {chains['precision_lower_bound']:.4f}) is below the "
                f"target, and {why}; the model's other families decide",
                err=True,
            )
        refusals = ((to_profiles, "profiles"), (to_devices, "a cookie of the same browser"))
        for family, label in refusals:
            if family.get("refused"):
                click.echo(f"warning: links to {label}: {family['refused']}", err=True)
        click.echo(
            f"link model: {m['anonymous_clusters']} anonymous clusters, {m['applied']} model "
            f"links applied; to profiles: {to_profiles['accepted']} accepted, "
            f"{to_profiles['ambiguous']} ambiguous, {to_profiles['below_threshold']} below "
            f"threshold ({to_profiles['pairs']} pairs); to a cookie of the same browser: "
            f"{to_devices['accepted']} accepted ({to_devices['pairs']} pairs); "
            f"{m['excluded_ips']} IPs over the cap"
        )


@click.command()
@progress_option
@click.pass_context
@_errors
def train(ctx: click.Context, progress: bool | None) -> None:
    """Train the link model from the current graph (used by the next `idgraph resolve`).

    Exits with code 5, saying why on stderr and keeping the previous model, when
    no family can link within the error budget that the profiles' precision target
    leaves (IDGRAPH_LINK_PROFILE_PRECISION; browser chains: IDGRAPH_LINK_TARGET_PRECISION).
    """
    from app.linking import train as train_link_model
    from ml.training import TargetUnreachable

    with open_resources(_config(ctx)) as res, progress_bar(progress) as bar:
        try:
            metadata = train_link_model(res, progress=bar)
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
    if metadata.get("sample"):
        click.echo(f"  {sample_line(metadata['sample'])}")
    chains_apply = bool(metadata["estimated"].get("browser", {}).get("reached"))
    for family, estimate in metadata["estimated"].items():
        threshold = metadata["thresholds"][family]
        if family == "browser":
            from ml.model_card import browser_why

            click.echo(f"  browser chains: {browser_why(estimate)}",
                       err=not estimate["reached"])  # fmt: skip
        elif estimate["reached"]:
            budget = estimate.get("budget")
            click.echo(
                f"  {family} links: threshold {threshold:.3f}, estimated precision "
                f"{estimate['precision']:.4f}"
                + (f" (bar {budget['bar']:.4f} from the error budget)" if budget else "")
                + f", recall {estimate['recall']:.4f}"
                + (
                    f"; about {budget['expected_links']:.0f} of "
                    f"{budget['anonymous_clusters']} anonymous clusters link (counted)"
                    if budget
                    else ""
                )
            )
        else:
            best = estimate["best_reachable"]
            bound = best["precision_lower_bound"]
            floor = estimate.get("budget", {}).get("floor")
            missed = estimate.get("refused") or (
                f"no threshold fits the error budget of profile precision {estimate['target']}"
                + (f" at a floor of {floor}" if floor else "")
                + f" (best {bound:.4f} at recall {best['recall']:.4f})"
            )
            if chains_apply:  # not a warning: browser chains decide instead of this family
                click.echo(f"  {family} links: {missed}; not used while browser chains apply")
                continue
            click.echo(
                f"warning: {family} links: {missed}; this model links no anonymous cluster to "
                + ("a profile" if family == "profile" else "another cookie of its browser"),
                err=True,
            )
    click.echo(f"saved to {metadata['path']} (card: `idgraph model show`); run `idgraph resolve`")


@click.group()
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
    if data.get("sample"):
        click.echo(f"  {sample_line(data['sample'])}")
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


@click.command()
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


@click.command()
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


def _dry_run(config: Config, changes: tuple[str, ...], model_path: Path | None,
             diff_path: Path | None, progress: bool | None) -> None:  # fmt: skip
    from app.linking import preview_all
    from graph.heap import rare_full_collections

    settings: dict[str, str] = {}
    for change in changes:
        key, sep, value = change.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {change!r}: use KEY=VALUE", field="set")
        settings[key.strip().lower().removeprefix("idgraph_")] = value
    # a dry run plans the whole graph as a resolve does (graph.heap); not in the API,
    # whose threads share the collector's settings
    with open_resources(config) as res, progress_bar(progress) as bar, rare_full_collections():
        result = preview_all(res, settings, model=model_path, progress=bar)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = diff_path or config.data_dir / "previews" / f"resolve-{stamp}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in result.diff:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    s = result.summary
    click.echo(
        f"dry run: {s['profiles_before']} profiles now, {s['profiles_after']} after; "
        f"{s['merges']} merges, {s['splits']} splits, {s['new_profiles']} new profiles; "
        f"{s['identifiers_moving']} identifiers move, {s['identifiers_new']} unresolved "
        f"ones join, {s['identifiers_gone']} leave; nothing written"
    )
    largest = ", ".join(f"{p['size']} (was {p['size_before']})" for p in s["largest"][:5])
    click.echo(f"largest profiles after: {largest}")
    before, after = s["sizes"]["before"], s["sizes"]["after"]
    click.echo("profile sizes: " + ", ".join(
        f"{label}: {before[label]}→{after[label]}" for label in after))  # fmt: skip
    click.echo(f"diff ({len(result.diff)} rows) written to {path}")


def _chains_refused(chains: dict[str, Any]) -> str:
    """Why browser chains trained to link do not on the current data (besides their
    estimate under the target: :func:`ml.chain_decision.browser_decision`)."""
    if "floor" in chains and chains["precision_lower_bound"] < chains["floor"]:
        return f"it is under the floor {chains['floor']} whatever the cost"
    if "floor" in chains and chains.get("wrong_groups_cost") is None:
        return "they make no links"
    return (
        f"what their wrong groups could cost ({chains.get('wrong_groups_cost', '?')}) exceeds "
        f"the room under the profiles' precision target ({chains.get('room', '?')})"
    )


def sample_line(sample: dict[str, Any]) -> str:
    """What a model trained on a sample of the graph was trained on (ml/sampling.py)."""
    return (
        f"trained on a sample of the graph: {sample['core_clusters']} clusters at "
        f"{sample['seed_ips']} IPs (a seeded {sample['share_of_ips']:.2%} of those that may be "
        f"homes) "
        f"standing for {sample['core_clusters_stand_for']} of the "
        f"{sample['identifiers_in_graph']} identifiers' clusters; "
        f"{sample['ips_read_whole']} IPs read whole, {sample.get('ips_read_lightly', 0)} for "
        "their degree only (IDGRAPH_LINK_TRAIN_WHOLE_LIMIT)"
    )
