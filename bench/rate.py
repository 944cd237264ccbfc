"""An open-loop load generator: GET requests at a constant rate, latency without
coordinated omission.

    python bench/rate.py --base http://127.0.0.1:8000 --paths paths.txt --key KEY \
        --rate 500 --seconds 15

Request *i* is due at ``start + i / rate`` whatever happened to the ones before it:
a slow answer does not delay the next request (the next one goes out on another of
``--connections`` keep-alive connections, opened before the first is due; when all are busy it
waits for the first free one), and each latency is measured from the moment the
request was *due*, not from when it could be sent — so a stalled server shows as the
latency its callers would see (what wrk, closed-loop, and hey, which skips ticks
while a worker waits, leave out). The connections are a fixed pool, as wrk2's are:
a server that stops answering is not handed ever more connections. Paths are picked at random
(seeded) from the file, one per line. One asyncio process on raw sockets: about
0.1 ms of CPU a request here, 5% of a core at 500 requests/s.

Prints one line ``RESULT {json}``: requests due and answered, errors (non-2xx or
failed), latency p50/p99/p99.9/max in microseconds, and how late the generator
itself sent (``send_lag_p99_us``: when that is large the generator, not the server,
fell behind and the run says nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import urllib.parse
from pathlib import Path
from typing import Any


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> int:
        """Send one request, read its answer; the status code."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(base: str, paths: list[str], key: str, rate: float, seconds: float,
              connections: int = 64, seed: int = 7) -> dict[str, Any]:  # fmt: skip
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    rng = random.Random(seed)
    # last in, first out: at a low rate the same few connections serve, warm
    idle: asyncio.LifoQueue[_Connection | None] = asyncio.LifoQueue()
    for _ in range(connections):
        idle.put_nowait(_Connection(*await asyncio.open_connection(host, port)))
    latencies: list[float] = []
    lags: list[float] = []
    errors = 0
    total = int(rate * seconds)

    async def one(path: str, due: float) -> None:
        nonlocal errors
        lags.append(time.perf_counter() - due)
        connection = await idle.get()
        try:
            if connection is None:
                connection = _Connection(*await asyncio.open_connection(host, port))
            request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                       f"Authorization: Bearer {key}\r\n\r\n").encode()  # fmt: skip
            status = await connection.get(request)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            errors += 1
            if connection is not None:
                connection.writer.close()
            idle.put_nowait(None)  # reopened by the next request that takes it
            return
        latencies.append(time.perf_counter() - due)
        if not 200 <= status < 300:
            errors += 1
        idle.put_nowait(connection)

    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(rng.choice(paths), due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        if (connection := idle.get_nowait()) is not None:
            connection.writer.close()
    micro = [x * 1e6 for x in latencies]
    return {
        "due": total,
        "answered": len(latencies),
        "rate": total / seconds,
        "seconds": elapsed,
        "errors": errors,
        "p50_us": _percentile(micro, 0.50),
        "p99_us": _percentile(micro, 0.99),
        "p999_us": _percentile(micro, 0.999),
        "max_us": max(micro, default=0.0),
        "send_lag_p99_us": _percentile([x * 1e6 for x in lags], 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--paths", type=Path, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    paths = [p for p in args.paths.read_text().splitlines() if p]
    result = asyncio.run(run(args.base, paths, args.key, args.rate, args.seconds, args.connections))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
