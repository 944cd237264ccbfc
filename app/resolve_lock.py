"""The resolution lock: one resolution at a time across processes, small updates first.

Every real-time update, full resolve and erasure takes one Redis lock per graph
(:meth:`app.resources.Resources.resolve_lock`). Under load the waiters poll it, and
whoever polls first when it frees takes it: a call of an event or two, whose own
update holds the lock a few milliseconds, waited behind the updates of pipelines'
100-event batches that came after it (each holding it for its neighbourhood and
plan, 30 ms at the median and over 100 ms at p99 under 1,000 events/s), and for
their updates of the other server processes. Measured, that wait was half of such
a call's slowest 1% (docs/benchmarks.md, Real-time updates, 2026-12-06 20:36).

Here a waiter asks for the lock either *first* (a small real-time update) or
*after* those: while a first waiter is waiting, the others do not take the lock,
for at most ``defer`` seconds of their own wait — a stream of small calls delays a
bulk update by at most that, it never starves it. The waiting first waiters are a
sorted set next to the lock, each member expiring a second after its last attempt
(a waiter that died stops deferring the others within a second). Both checks run in
Lua scripts: the lock is taken or not in one step, with the store's own clock.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any, ClassVar

import redis
from redis.commands.core import Script
from redis.lock import Lock

__all__ = ["WAITER_TTL", "ResolveLock"]

#: milliseconds a first waiter's mark lasts after its last attempt
WAITER_TTL = 1000

# KEYS: the lock, the first waiters; ARGV: token, the lock's milliseconds, the mark's
_FIRST = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 0
"""

# KEYS: the lock, the first waiters; ARGV: token, the lock's milliseconds, defer (1/0)
_AFTER = """
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""


class ResolveLock(Lock):
    """A :class:`redis.lock.Lock` whose first waiters go before the others.

    ``first``: take it before the waiters that are not first; ``defer``: seconds a
    waiter that is not first lets first waiters go before it. ``timeout`` (the
    seconds Redis keeps the lock of a holder that died) is required.
    """

    _scripts: ClassVar[dict[str, Script]] = {}

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        *,
        timeout: float,
        sleep: float,
        blocking_timeout: float,
        first: bool = False,
        defer: float = 0.5,
    ) -> None:
        super().__init__(client, name, timeout=timeout, sleep=sleep,
                         blocking_timeout=blocking_timeout)  # fmt: skip
        self.first = first
        self.defer = defer
        self.waiters = f"{name}:first"
        self._defer_until = 0.0
        if not self._scripts:
            self._scripts["first"] = client.register_script(_FIRST)
            self._scripts["after"] = client.register_script(_AFTER)

    def acquire(self, sleep: Any = None, blocking: Any = None, blocking_timeout: Any = None,
                token: Any = None) -> bool:  # fmt: skip
        token = token or uuid.uuid4().hex.encode()
        self._defer_until = time.monotonic() + self.defer
        acquired = False
        try:
            acquired = bool(super().acquire(sleep, blocking, blocking_timeout, token))
            return acquired
        finally:
            if self.first and not acquired:  # gave up (or failed): no longer waiting
                with contextlib.suppress(redis.exceptions.RedisError):
                    self.redis.zrem(self.waiters, token)

    def do_acquire(self, token: Any) -> bool:
        milliseconds = int(self.timeout * 1000)  # type: ignore[operator]
        if self.first:
            script, last = self._scripts["first"], WAITER_TTL
        else:
            script, last = self._scripts["after"], int(time.monotonic() < self._defer_until)
        return bool(script(keys=[self.name, self.waiters], args=[token, milliseconds, last],
                           client=self.redis))  # fmt: skip
