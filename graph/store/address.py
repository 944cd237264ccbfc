"""Where a Redis-protocol server (FalkorDB, Redis) is: a unix socket or host:port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from graph.errors import ConfigError

__all__ = ["ServerAddress"]


@dataclass(frozen=True)
class ServerAddress:
    """Connection settings shared by the FalkorDB client and redis-py."""

    unix_socket: str | None = None
    host: str = "127.0.0.1"
    port: int = 6379
    password: str | None = None
    username: str | None = None
    db: int = 0

    @classmethod
    def from_url(cls, url: str) -> ServerAddress:
        """``falkordb://[user:pass@]host:port``, ``redis://…/db`` or ``unix:///path.sock``."""
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return cls(unix_socket=parts.path, password=_opt(parts.password))
        if parts.scheme not in ("falkordb", "redis"):
            raise ConfigError(f"{url!r}: expected falkordb://, redis:// or unix://")
        try:
            port = parts.port or 6379
        except ValueError as e:
            raise ConfigError(f"{url!r}: bad port") from e
        db_text = parts.path.strip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            password=_opt(parts.password),
            username=_opt(parts.username),
            db=int(db_text) if db_text.isdigit() else 0,
        )

    def redis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis`` and ``falkordb.FalkorDB``."""
        kwargs: dict[str, Any] = {"password": self.password, "username": self.username}
        if self.unix_socket:
            kwargs["unix_socket_path"] = self.unix_socket
        else:
            kwargs.update(host=self.host, port=self.port)
        return kwargs

    def describe(self) -> str:
        return f"unix:{self.unix_socket}" if self.unix_socket else f"{self.host}:{self.port}"


def _opt(text: str | None) -> str | None:
    return unquote(text) if text else None
