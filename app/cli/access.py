"""``idgraph keys create|list|revoke|import`` and ``idgraph audit``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from app.access import keys as api_keys
from app.access.audit import audit_trail, cli_actor
from app.cli.support import config_of, reports_errors
from app.resources import open_resources
from graph.ingest.events import format_ts

__all__ = ["audit", "keys"]


def _ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


DATE = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"])
SCOPE = click.Choice(list(api_keys.SCOPES))


@click.group()
def keys() -> None:
    """API keys: who may call the HTTP API, with which scopes."""


@keys.command("create")
@click.option("--name", required=True, help="Unique, never reused (kept after revocation).")
@click.option("--scope", "scopes", multiple=True, required=True, type=SCOPE,
              help="read, ingest, segments or admin (repeatable).")  # fmt: skip
@click.option("--expires", type=DATE, help="Expiry date (UTC), e.g. 2027-06-30.")
@click.pass_context
@reports_errors
def keys_create(ctx: click.Context, name: str, scopes: tuple[str, ...],
                expires: datetime | None) -> None:  # fmt: skip
    """Create a key and print it once, as the last line (only its hash is stored)."""
    with open_resources(config_of(ctx)) as res:
        key, record = api_keys.create_key(res.store, name, scopes, expires_at=_ms(expires))
        audit_trail(res).record(cli_actor(), "keys create", f"key:{name}",
                           detail={"scopes": list(record.scopes)})  # fmt: skip
    until = f", expires {format_ts(record.expires_at)}" if record.expires_at else ""
    click.echo(f"created key {name!r} with scopes {', '.join(record.scopes)}{until}.")
    click.echo("Store it now: it is shown only this once.")
    click.echo(key)


@keys.command("import")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, type=SCOPE)
@click.option(
    "--key-file",
    type=click.File("r"),
    required=True,
    help="A file holding the key (e.g. a Docker secret); '-' for standard input.",
)
@click.pass_context
@reports_errors
def keys_import(ctx: click.Context, name: str, scopes: tuple[str, ...], key_file: Any) -> None:
    """Store a key chosen by the operator (idempotent: the same key again changes nothing)."""
    with open_resources(config_of(ctx)) as res:
        record = api_keys.import_key(res.store, name, key_file.read(), scopes)
        if record is not None:
            audit_trail(res).record(cli_actor(), "keys import", f"key:{name}",
                               detail={"scopes": list(record.scopes)})  # fmt: skip
    click.echo(f"key {name!r} {'imported' if record else 'already present'}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@reports_errors
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """Name, scopes, status, created, last used, expiry — never the key."""
    with open_resources(config_of(ctx)) as res:
        records = api_keys.list_keys(res.store)
    rows: list[dict[str, Any]] = [
        {
            "name": r.name,
            "scopes": list(r.scopes),
            "status": api_keys.status_of(r),
            "created_at": format_ts(r.created_at),
            "last_used_at": format_ts(r.last_used_at),
            "expires_at": format_ts(r.expires_at),
        }
        for r in records
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no keys yet: `idgraph keys create --name NAME --scope SCOPE`")
        return
    click.echo(f"{'name':20} {'scopes':26} {'status':8} {'created':21} {'last used':21} expires")
    for row in rows:
        click.echo(f"{row['name']:20} {','.join(row['scopes']):26} {row['status']:8} "
                   f"{row['created_at'] or '-':21} {row['last_used_at'] or '-':21} "
                   f"{row['expires_at'] or '-'}")  # fmt: skip


@keys.command("revoke")
@click.argument("name")
@click.pass_context
@reports_errors
def keys_revoke(ctx: click.Context, name: str) -> None:
    """Revoke a key at once; its record stays for the audit trail."""
    with open_resources(config_of(ctx)) as res:
        api_keys.revoke_key(res.store, name)
        audit_trail(res).record(cli_actor(), "keys revoke", f"key:{name}")
    click.echo(f"revoked key {name!r}")


@click.command()
@click.option("--since", type=DATE, help="Entries from this date/time (UTC).")
@click.option("--key", "key_name", help="Only this key's entries (e.g. cli:root for commands).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.pass_context
@reports_errors
def audit(ctx: click.Context, since: datetime | None, key_name: str | None, limit: int,
          as_json: bool) -> None:  # fmt: skip
    """The audit trail, oldest first: which key did what, to what, when (values masked)."""
    with open_resources(config_of(ctx)) as res:
        trail = audit_trail(res)
        shown, cursor = 0, None
        while shown < limit:
            page, cursor = trail.entries(since=_ms(since), key=key_name, after=cursor,
                                         limit=min(1000, limit - shown))  # fmt: skip
            for entry in page:
                if as_json:
                    click.echo(json.dumps(entry, sort_keys=True))
                else:
                    status = entry["status"] if entry["status"] is not None else "-"
                    click.echo(f"{entry['at']}  {entry['key']:20} {status!s:4} "
                               f"{entry['action']}  {entry['target']}")  # fmt: skip
            shown += len(page)
            if cursor is None:
                break
