"""Which of idgraph's queries keep the embedded FalkorDB busy, sampled from the store.

    python bench/store_queries.py --socket DATA_DIR/store/falkordb.sock --seconds 40

Polls ``GRAPH.INFO`` (the queries running and waiting at that instant) every few
milliseconds and names each query by the Cypher file it came from (``cypher/``).
Prints the share of samples in which a query was running, in which one waited, and
each query's share of samples running and waiting: where the store's time goes
while something else (e.g. bench/realtime.py) loads it. The polling costs the store
a little itself; query texts (with their parameters) are never printed.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import redis

CYPHER = Path(__file__).resolve().parents[1] / "cypher"


def query_bodies() -> dict[str, str]:
    """Each Cypher file's text without comments, whitespace collapsed, by its name."""
    bodies = {}
    for path in sorted(CYPHER.rglob("*.cypher")):
        lines = (line for line in path.read_text().splitlines()
                 if not line.strip().startswith("//"))  # fmt: skip
        bodies[str(path.relative_to(CYPHER))] = re.sub(r"\s+", " ", "\n".join(lines)).strip()
    return bodies


def name_of(text: str, bodies: dict[str, str]) -> str:
    """The file a query text (``CYPHER params… body``) came from; the longest that ends it."""
    flat = re.sub(r"\s+", " ", text)
    names = [n for n, body in bodies.items() if body and flat.endswith(body[-200:])]
    return max(names, key=lambda n: len(bodies[n])) if names else "(not an idgraph file)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True, help="The embedded store's unix socket.")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--interval", type=float, default=0.004, help="Seconds between polls.")
    args = parser.parse_args()
    client = redis.Redis(unix_socket_path=args.socket)
    bodies = query_bodies()
    names: dict[bytes, str] = {}
    running: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    samples = busy = queued = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        info = client.execute_command("GRAPH.INFO")
        samples += 1
        now = {"running": info[1], "waiting": info[3]}
        busy += bool(now["running"])
        queued += bool(now["waiting"])
        for kind, counter in (("running", running), ("waiting", waiting)):
            for entry in now[kind]:
                fields = dict(zip(entry[::2], entry[1::2], strict=True))
                text = fields[b"Query"]
                key = text[-300:]
                if key not in names:
                    names[key] = name_of(text.decode(errors="replace"), bodies)
                counter[names[key]] += 1
        time.sleep(args.interval)
    print(f"{samples} samples over {args.seconds:.0f} s: a query running in {busy / samples:.2f} "
          f"of them, one waiting in {queued / samples:.2f}")  # fmt: skip
    for title, counter in (("running", running), ("waiting", waiting)):
        print(f"share of samples with the query {title}:")
        for name, n in counter.most_common(15):
            print(f"  {n / samples:.3f}  {name}")


if __name__ == "__main__":
    main()
