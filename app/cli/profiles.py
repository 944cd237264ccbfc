"""One customer: ``lookup``, ``explain``, ``erase``, and the ``quarantine``."""

from __future__ import annotations

import json
import logging

import click

from app.cli.support import (
    audit_change,
)
from app.cli.support import config_of as _config
from app.cli.support import reports_errors as _errors
from app.profiles import lookup_identifier
from app.resources import open_resources
from graph.errors import NotFound
from graph.privacy import mask_value

logger = logging.getLogger(__name__)


@click.command()
@click.argument("type_name", metavar="TYPE")
@click.argument("value")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Leave out links below this confidence (1: deterministic links only; "
              "default: the min_confidence setting).")  # fmt: skip
@click.pass_context
@_errors
def lookup(ctx: click.Context, type_name: str, value: str, min_confidence: float | None) -> None:
    """The profile of one identifier, as JSON (exit 3 when not found)."""
    with open_resources(_config(ctx)) as res:
        wanted = res.config.min_confidence if min_confidence is None else min_confidence
        settings = res.resolve_settings()
        result = lookup_identifier(res.store, res.registry, type_name, value,
                                   min_confidence=wanted, settings=settings,
                                   purchase_types=res.config.purchase_types)  # fmt: skip
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@click.command()
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


@click.group()
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
        audit_change(res, "erase profile", f"profile:{profile_id}")
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
        audit_change(res, "erase identifier", f"{type_name}:{mask_value(type_name, value)}")
    click.echo(json.dumps(result, indent=2))


@click.group()
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
        audit_change(res, f"quarantine {override}",
               f"{identifier.type}:{mask_value(identifier.type, identifier.value)}")  # fmt: skip
    click.echo(f"{identifier.type} {override}; takes effect at the next `idgraph resolve`")


@click.command()
@click.argument("household_id")
@click.pass_context
@_errors
def household(ctx: click.Context, household_id: str) -> None:
    """A household as JSON: the profiles that share a home and its shared devices
    (exit 3 when not found)."""
    from app.households import get_household

    with open_resources(_config(ctx)) as res:
        body = get_household(res, household_id)
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
