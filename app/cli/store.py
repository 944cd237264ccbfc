"""``idgraph store``: the embedded store's life (start, stop, status, init, stats)."""

from __future__ import annotations

import json
import logging
import sys

import click

from app.cli.support import (
    EXIT_NOT_FOUND,
)
from app.cli.support import config_of as _config
from app.cli.support import reports_errors as _errors
from app.resources import open_resources
from graph.errors import InputError
from graph.store.embedded import EmbeddedServer

logger = logging.getLogger(__name__)


@click.group()
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
    status = EmbeddedServer(config.data_dir, fsync=config.store_fsync,
                            query_threads=config.store_query_threads).start()  # fmt: skip
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
    server = EmbeddedServer(config.data_dir)
    status = server.status()
    if status is None:
        click.echo(f"not running (data dir {config.data_dir.resolve()})")
        sys.exit(EXIT_NOT_FOUND)
    settings = server.in_force(status)
    click.echo(f"running, pid {status.pid}, at {status.address.describe()}, "
               f"fsync {settings.get('fsync', 'unknown')}, "
               f"query threads {settings.get('query threads', 'unknown')}")  # fmt: skip


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
