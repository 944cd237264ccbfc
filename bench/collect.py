"""Collection throughput: Segment's ``POST /v1/batch`` next to ``POST /v1/events``.

    python bench/collect.py --persons 1000 --batch 100 --clients 4 --rounds 2

One generated world, sent twice per round to a fresh store behind a real
``idgraph serve`` (real-time profile updates on): once as
idgraph events to ``/v1/events``, once as the same events written as Segment
messages (track / identify, ``userId``, ``anonymousId``, ``traits.email``,
``context.ip``…) to ``/v1/batch``. ``--clients`` connections post batches of
``--batch`` as fast as they are answered; bodies are encoded before the clock
starts. Reported per endpoint: the median over rounds of accepted messages per
second, and the request latency.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, percentile, publish

from ml.synthetic import generate

IDGRAPH = shutil.which("idgraph", path=str(Path(sys.executable).parent)) or "idgraph"


def as_segment(event: dict[str, Any]) -> dict[str, Any]:
    """The same event as a Segment message (what a Segment client would have sent)."""
    ids: dict[str, str] = {}
    raw = event.get("identifiers") or []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            ids.setdefault(str(item.get("type")), str(item.get("value")))
    context: dict[str, Any] = {"library": {"name": "bench"}}
    if "ip" in ids:
        context["ip"] = ids["ip"]
    if "device_id" in ids:
        context["device"] = {"id": ids["device_id"]}
    user_agent = (event.get("context") or {}).get("user_agent")
    if user_agent:
        context["userAgent"] = user_agent
    traits = {k: ids[k] for k in ("email", "phone") if k in ids}
    if "loyalty_id" in ids:
        traits["loyalty_id"] = ids["loyalty_id"]
    message: dict[str, Any] = {
        "messageId": event.get("event_id"),
        "timestamp": event.get("timestamp"),
        "context": {**context, "traits": traits} if traits else context,
    }
    if "user_id" in ids:
        message["userId"] = ids["user_id"]
    anonymous = ids.get("cookie_id") or ids.get("device_id")
    if anonymous:
        message["anonymousId"] = anonymous
    properties = dict(event.get("properties") or {})
    if event.get("type") == "purchase":
        properties["revenue"] = properties.pop("amount", None)
        message.update(type="track", event="Order Completed", properties=properties)
    else:
        message.update(type="track", event=str(event.get("type")), properties=properties)
    return message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env["IDGRAPH_DATA_DIR"] = str(data_dir)
    done = subprocess.run([IDGRAPH, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def run_once(work: Path, path: str, bodies: list[bytes], clients: int) -> dict[str, Any]:
    """A fresh store and server; every body posted; the server stopped."""
    data_dir = Path(tempfile.mkdtemp(dir=work, prefix="store-"))
    cli(data_dir, "store", "start")
    key = cli(data_dir, "keys", "create", "--name", "bench", "--scope", "ingest").split()[-1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env.update(IDGRAPH_DATA_DIR=str(data_dir), IDGRAPH_RATE_LIMIT_PER_MINUTE="0")
    server = subprocess.Popen([IDGRAPH, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        latencies: list[float] = []
        totals = {"accepted": 0, "rejected": 0, "received": 0}
        chunks = [bodies[n::clients] for n in range(clients)]

        def post_all(mine: list[bytes]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for body in mine:
                started = time.perf_counter()
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status} {answer}")
                for name in totals:
                    totals[name] += answer[name]
            connection.close()

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(post_all, chunks))
        seconds = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
        cli(data_dir, "store", "stop")
        shutil.rmtree(data_dir, ignore_errors=True)
    return {**totals, "seconds": seconds, "latencies": latencies}


def main() -> None:
    args = parse_args(__doc__, persons=1000, batch=100, clients=4, rounds=2)
    work = Path(tempfile.mkdtemp(prefix="idgraph-bench-collect-"))
    data = generate(work / "data", persons=args.persons)
    events = []
    for line in data.events_path.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("identifiers"), list):
            events.append(event)
    messages = [as_segment(e) for e in events]

    def bodies(key: str, items: list[dict[str, Any]]) -> list[bytes]:
        return [json.dumps({key: items[n : n + args.batch]}).encode()
                for n in range(0, len(items), args.batch)]  # fmt: skip

    runs: dict[str, list[dict[str, Any]]] = {"/v1/events": [], "/v1/batch": []}
    payloads = {"/v1/events": bodies("events", events), "/v1/batch": bodies("batch", messages)}
    for _ in range(args.rounds):
        for path in runs:  # alternating, so drift on a noisy machine hits both
            runs[path].append(run_once(work, path, payloads[path], args.clients))
    shutil.rmtree(work, ignore_errors=True)

    rows = []
    for path, results in runs.items():
        rates = [r["accepted"] / r["seconds"] for r in results]
        latencies = [ms for r in results for ms in r["latencies"]]
        last = results[-1]
        rows.append(
            f"| `POST {path}` | {last['received']:,} | {last['accepted']:,} | "
            f"{last['rejected']:,} | {statistics.median(rates):,.0f} "
            f"({', '.join(f'{r:,.0f}' for r in rates)}) | {percentile(latencies, 50):.0f} | "
            f"{percentile(latencies, 99):.0f} |"
        )
    events_rate = statistics.median(r["accepted"] / r["seconds"] for r in runs["/v1/events"])
    batch_rate = statistics.median(r["accepted"] / r["seconds"] for r in runs["/v1/batch"])
    lines = [
        f"Command: `python bench/collect.py --persons {args.persons} --batch {args.batch} "
        f"--clients {args.clients} --rounds {args.rounds}`",
        "",
        f"{len(events):,} generated events ({args.persons:,} persons), each endpoint to a fresh "
        f"store behind `idgraph serve` in every round, {args.clients} connections, "
        f"{args.batch} per request, real-time profile updates on.",
        "",
        "| endpoint | sent | accepted | rejected | accepted/s median (rounds) | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"`/v1/batch` runs at {batch_rate / events_rate:.0%} of `/v1/events`; its rejects are "
        "events with neither a user ID nor a cookie/device (Segment needs one of them).",
    ]
    publish("Collection: Segment /v1/batch next to /v1/events", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
