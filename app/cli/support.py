"""What every ``idgraph`` command shares: its configuration and how errors are reported."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from app.access.audit import audit_trail, cli_actor
from app.config import Config
from app.resources import Resources
from graph.errors import IdgraphError, InputError, NotFound

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOT_FOUND",
    "EXIT_TARGET_UNREACHABLE",
    "EXIT_UNAVAILABLE",
    "audit_change",
    "config_of",
    "json_argument",
    "reports_errors",
]

F = TypeVar("F", bound=Callable[..., Any])

#: exit codes
EXIT_ERROR = 1
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
#: `idgraph train`: no threshold reaches the target precision (the previous model is kept)
EXIT_TARGET_UNREACHABLE = 5


def config_of(ctx: click.Context) -> Config:
    config = ctx.find_object(Config)
    assert config is not None
    return config


def reports_errors(func: F) -> F:
    """Turn idgraph errors into one clear line on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NotFound as e:
            click.echo(f"not found: {e}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        except InputError as e:
            where = f"{e.field}: " if e.field and e.field not in str(e) else ""
            click.echo(f"error: {where}{e}", err=True)
            sys.exit(EXIT_ERROR)
        except IdgraphError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_UNAVAILABLE if e.retryable else EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def audit_change(res: Resources, action: str, target: str) -> None:
    """Record a command's change in the audit trail, as ``cli:<os user>``."""
    audit_trail(res).record(cli_actor(), action, target)


def json_argument(text: str, name: str) -> Any:
    """JSON from an option value, or from a file with ``@path``."""
    try:
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise InputError(f"--{name}: cannot read {text[1:]}: {e}", field=name) from e
    except ValueError as e:
        raise InputError(f"--{name} is not valid JSON: {e}", field=name) from e
