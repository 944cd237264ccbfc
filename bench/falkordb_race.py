"""Reproduce the embedded FalkorDB's crash: a read traversing while a write grows the graph.

    python bench/falkordb_race.py                      # the server as idgraph starts it
    python bench/falkordb_race.py --buffer 16384       # FalkorDB's default node buffer
    python bench/falkordb_race.py --buffer 2048 --thread-count 1

Each run starts a fresh server (idgraph's command line: ``EmbeddedServer``; only the
module's ``NODE_CREATION_BUFFER`` and ``THREAD_COUNT`` changed as asked, and Redis's
crash report turned on: the data is synthetic), puts 20,000
identifiers in profiles of three (``cypher/assign_profiles.cypher``), then for
``--seconds`` runs reader processes asking idgraph's ``profiles_of`` and
``members_of_profiles_of`` (``GRAPH.RO_QUERY``) beside writer processes that add
events with new identifiers (120 new nodes a write) and move identifiers between
profiles. FalkorDB 4.16 resizes its matrices each time the nodes outgrow the buffer;
a read traversing then can die with SIGSEGV in GraphBLAS (``GB_AxB_saxpy3_flopcount``
under ``Delta_mxm``), the crash idgraph's real-time bench met
(docs/upstream/falkordb-crash-2026-12-07.md). Prints, a run a line, whether and when
the server died, the resizes the run's new nodes crossed, and the function the
server's crash report names. Nothing of idgraph's runs but its queries.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from falkordb import FalkorDB

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.store.address import ServerAddress
from graph.store.embedded import NODE_CREATION_BUFFER, EmbeddedServer
from graph.store.queries import QueryLibrary

#: idgraph's queries as it runs them on FalkorDB (cypher/, with its falkordb/ overrides)
QUERIES = QueryLibrary("falkordb")
IDENTIFIERS = 20_000
NEW_IDENTIFIERS = "UNWIND $rows AS r CREATE (:Identifier {type: r.type, value: r.value})"
NEW_EVENTS = "UNWIND $rows AS r CREATE (e:Event {event_id: r.event}) MERGE (n:Identifier {type: 'email', value: r.new}) CREATE (n)-[:OBSERVED]->(e) WITH e, r MATCH (o:Identifier {type: 'email', value: r.old}) CREATE (o)-[:OBSERVED]->(e)"  # noqa: E501


def command(work: Path, socket: str, buffer: int, thread_count: int | None) -> list[str]:
    """idgraph's server command line with the module's node buffer (and threads) set."""
    embedded = EmbeddedServer(work)
    embedded.dir.mkdir(parents=True, exist_ok=True)
    line = embedded._command(ServerAddress(unix_socket=socket))
    line[line.index("NODE_CREATION_BUFFER") + 1] = str(buffer)
    line[line.index("--crash-log-enabled") + 1] = "yes"  # synthetic data: the report helps
    return line + (["THREAD_COUNT", str(thread_count)] if thread_count else [])


def email(n: int) -> str:
    return f"u{n}@example.com"


def reader(socket: str, seed: int, stop: Any, count: Any, errors: Any) -> None:
    rnd = random.Random(seed)
    graph = FalkorDB(unix_socket_path=socket).select_graph("race")
    queries = [QUERIES["profiles_of"], QUERIES["members_of_profiles_of"]]
    while not stop.is_set():
        keys = [["email", email(rnd.randrange(IDENTIFIERS))] for _ in range(20)]
        try:
            graph.ro_query(queries[rnd.random() < 0.4], {"keys": keys})
        except (redis.exceptions.ConnectionError, OSError):
            return
        except redis.exceptions.ResponseError:  # counted, not fatal to the load
            errors.value += 1
            continue
        count.value += 1


def writer(socket: str, seed: int, stop: Any, count: Any, errors: Any) -> None:
    rnd = random.Random(seed)
    graph = FalkorDB(unix_socket_path=socket).select_graph("race")
    serial = 0
    while not stop.is_set():
        serial += 1
        tag = f"{seed}-{serial}"
        events = [
            {
                "event": f"e{tag}-{k}",
                "new": f"n{tag}-{k}@example.com",
                "old": email(rnd.randrange(IDENTIFIERS)),
            }
            for k in range(40)
        ]
        moves = [
            {"type": "email", "value": e["new"], "profile_id": f"q{tag}-{k}"}
            for k, e in enumerate(events)
        ]
        moves += [
            {
                "type": "email",
                "value": email(rnd.randrange(IDENTIFIERS)),
                "profile_id": f"p{rnd.randrange(IDENTIFIERS // 3)}",
            }
            for _ in range(20)
        ]
        try:
            graph.query(NEW_EVENTS, {"rows": events})
            graph.query(QUERIES["assign_profiles"], {"rows": moves, "now": int(time.time())})
        except (redis.exceptions.ConnectionError, OSError):
            return
        except redis.exceptions.ResponseError:  # counted, not fatal to the load
            errors.value += 1
            continue
        count.value += 1


def server_versions(socket: str) -> str:
    """Redis's and FalkorDB's versions, as the server says them."""
    with redis.Redis(unix_socket_path=socket, decode_responses=True) as client:
        modules = {m["name"]: int(m["ver"]) for m in client.module_list()}
        falkordb = modules.get("graph", 0)
        return (f"Redis {client.info('server')['redis_version']}, FalkorDB "
                f"{falkordb // 10000}.{falkordb // 100 % 100}.{falkordb % 100}")  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="idgraph-race-"))
    socket = str(work / "s.sock")
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        command(work, socket, args.buffer, args.thread_count), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        while not Path(socket).exists():
            if server.poll() is not None:
                raise SystemExit(f"the server did not start: {(work / 'server.log').read_text()}")
            time.sleep(0.1)
        graph = FalkorDB(unix_socket_path=socket).select_graph("race")
        graph.query("CREATE INDEX FOR (i:Identifier) ON (i.type, i.value)")
        graph.query("CREATE INDEX FOR (p:Profile) ON (p.profile_id)")
        graph.query("CREATE INDEX FOR (e:Event) ON (e.event_id)")
        rows = [
            {"type": "email", "value": email(n), "profile_id": f"p{n // 3}"}
            for n in range(IDENTIFIERS)
        ]
        for start in range(0, IDENTIFIERS, 2_000):
            chunk = rows[start : start + 2_000]
            graph.query(NEW_IDENTIFIERS, {"rows": chunk})
            graph.query(QUERIES["assign_profiles"], {"rows": chunk, "now": 0})
        nodes = graph.query("MATCH (n) RETURN count(n)").result_set[0][0]
        versions = server_versions(socket)
        stop = mp.Event()
        reads, writes, errors = mp.Value("q", 0), mp.Value("q", 0), mp.Value("q", 0)
        workers = [
            mp.Process(target=reader, args=(socket, 100 + i, stop, reads, errors))
            for i in range(args.readers)
        ]
        workers += [
            mp.Process(target=writer, args=(socket, i, stop, writes, errors))
            for i in range(args.writers)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        died = None
        while time.monotonic() - started < args.seconds:
            time.sleep(0.2)
            if server.poll() is not None:
                died = time.monotonic() - started
                break
        stop.set()
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
        created = writes.value * 120  # ~: a write in flight at the end is not counted
        report = (work / "server.log").read_text(errors="replace")
        where = re.search(r"crashed by signal: (\d+)", report)
        functions = re.findall(r"\((GB_\w+|Delta_\w+)\+", report)
        return {
            "died": died,
            "reads": reads.value,
            "writes": writes.value,
            "errors": errors.value,
            "resizes": (nodes + created) // args.buffer - nodes // args.buffer,
            "signal": where and where.group(1),
            "in": functions[0] if functions else None,
            "versions": versions,
        }
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(15)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--buffer",
        type=int,
        default=NODE_CREATION_BUFFER,
        help=f"NODE_CREATION_BUFFER (a power of two; idgraph's {NODE_CREATION_BUFFER})",
    )
    parser.add_argument(
        "--thread-count", type=int, help="THREAD_COUNT (FalkorDB's default: the cores)"
    )
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args()
    died = 0
    for number in range(1, args.runs + 1):
        result = run(args)
        if number == 1:
            print(result["versions"], flush=True)
        died += result["died"] is not None
        when = (
            f"died after {result['died']:.1f} s (signal {result['signal']}, in {result['in']})"
            if result["died"] is not None
            else f"alive after {args.seconds:.0f} s"
        )
        print(
            f"run {number}: {when}; {result['reads']} reads, {result['writes']} writes, "
            f"{result['errors']} refused by the server, "
            f"~{result['resizes']} matrix resizes",
            flush=True,
        )
    print(
        f"NODE_CREATION_BUFFER {args.buffer}, THREAD_COUNT {args.thread_count or 'default'}: "
        f"the server died in {died} of {args.runs} runs"
    )


if __name__ == "__main__":
    main()
