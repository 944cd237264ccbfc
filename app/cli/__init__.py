"""The ``idgraph`` command line: one module per command group (as rq and Flask do).

The root group here loads the configuration and logging; :mod:`app.cli.support`
holds what every command shares (configuration, error reporting and exit codes,
the audit trail); each group's module registers nothing itself: the root adds it.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click

from app.cli.access import audit, keys
from app.cli.ingest import ingest
from app.cli.marketing import export, rfm, segments
from app.cli.model import evaluate, generate, model, resolve, train
from app.cli.profiles import erase, explain, household, lookup, quarantine
from app.cli.service import demo, jobs, serve, worker
from app.cli.store import store
from app.config import Config
from app.logs import configure_logging
from graph.errors import IdgraphError

__all__ = ["cli", "main"]


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
    configure_logging(level, config.log_format)
    ctx.obj = config


for _command in (
    store,
    ingest,
    resolve,
    train,
    model,
    evaluate,
    generate,
    lookup,
    explain,
    erase,
    household,
    quarantine,
    export,
    segments,
    rfm,
    worker,
    jobs,
    serve,
    demo,
    keys,
    audit,
):
    cli.add_command(_command)
