"""What every ``idgraph`` command shares: its configuration and how errors are reported."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from app.config import Config
from graph.errors import IdgraphError, InputError, NotFound

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOT_FOUND",
    "EXIT_TARGET_UNREACHABLE",
    "EXIT_UNAVAILABLE",
    "config_of",
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
