"""Audience export of ~100k profiles through a real rq worker: time and peak memory.

    python bench/export.py --persons 31000

Generates data, ingests and resolves it (profile facts included) into a fresh
embedded store, recomputes RFM, then exports segments of different sizes through
``idgraph worker --burst`` processes (the embedded server is their Redis). Peak
RSS (VmHWM, polled every 20 ms) is reported for the worker and for the work horse
it forks for each job (the process that runs the export).
Baselines from the same run: the raw store paging every profile with its members
(``GraphStore.iter_profiles``, no segment condition, nothing written), and an idle
worker's peak RSS (the same command with an empty queue).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, publish, workspace

from app.audiences import export_path
from app.config import Config
from app.jobs import enqueue_export, fetch_job
from app.resources import open_resources
from app.rfm import run_rfm
from app.segments import count_members, create_segment
from graph.ingest.readers import read_records
from graph.profiles.refresh import refresh_facts
from graph.resolve.resolution import resolve

ROOT = Path(__file__).resolve().parent.parent
IDGRAPH = str(Path(sys.executable).with_name("idgraph"))


def _peak_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def worker_burst(config: Config) -> tuple[float, float, float]:
    """(seconds, worker peak RSS MiB, work-horse peak RSS MiB) of ``idgraph worker
    --burst`` draining the queue; peaks (VmHWM) polled every 20 ms."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env.update(IDGRAPH_DATA_DIR=str(config.data_dir), IDGRAPH_GRAPH_NAME=config.graph_name)
    started = time.perf_counter()
    worker = subprocess.Popen([IDGRAPH, "worker", "--burst"], env=env, stdout=subprocess.DEVNULL)
    worker_kib = horse_kib = 0
    while worker.poll() is None:
        worker_kib = max(worker_kib, _peak_kib(worker.pid))
        for child in _children(worker.pid):
            horse_kib = max(horse_kib, _peak_kib(child))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    assert worker.returncode == 0
    return seconds, worker_kib / 1024, horse_kib / 1024


def main() -> None:
    args = parse_args(__doc__, persons=31_000)
    _work, data, config = workspace(args.persons)
    lines: list[str] = []
    with open_resources(config) as res:
        t = time.perf_counter()
        ingested = res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        ingest_s = time.perf_counter() - t
        report = resolve(res.store, res.registry, res.resolve_settings())
        active = res.store.active_profiles()
        t = time.perf_counter()
        refresh_facts(res.store, active, purchase_types=config.purchase_types)
        facts_s = time.perf_counter() - t
        t = time.perf_counter()
        rfm = run_rfm(res)
        rfm_s = time.perf_counter() - t

        t = time.perf_counter()
        paged = sum(1 for _ in res.store.iter_profiles(page_size=1000))
        baseline_s = time.perf_counter() - t

        everyone = create_segment(
            res, {"name": "everyone", "rule": {"field": "size", "op": ">=", "value": 1}}
        )["segment_id"]
        tenth = create_segment(
            res,
            {"name": "buyers with e-mail", "rule": {"and": [
                {"has": "email"}, {"field": "purchase_count", "op": ">=", "value": 2}]}},
        )["segment_id"]  # fmt: skip
        sizes = {}
        for sid in (everyone, tenth):
            t = time.perf_counter()
            sizes[sid] = count_members(res, sid)["count"]
            sizes[sid + ":count_s"] = time.perf_counter() - t

        idle_s, idle_mib, _ = worker_burst(config)
        runs = []
        for sid, fmt in ((everyone, "jsonl"), (everyone, "google_customer_match"),
                         (tenth, "google_customer_match")):  # fmt: skip
            export_id = enqueue_export(res.redis, config.graph_name, sid, fmt)
            seconds, mib, horse_mib = worker_burst(config)
            job = fetch_job(res.redis, export_id)
            assert job is not None and job.is_finished, job and job.latest_result()
            result = job.return_value()
            assert result is not None
            job_s = (job.ended_at - job.started_at).total_seconds()  # type: ignore[operator]
            runs.append((sid, fmt, result, job_s, seconds, mib, horse_mib))
            export_path(res, export_id, fmt).unlink()

    lines += [
        "Command: `python bench/export.py "
        f"--persons {args.persons}` ({ingested.accepted:,} events, "
        f"{report.profiles:,} profiles, {report.identifiers:,} identifiers).",
        "",
        f"- ingest {ingest_s:.1f} s; full resolve {report.seconds:.1f} s, of which profile "
        f"facts for every profile ~{facts_s:.1f} s (measured again on its own); "
        f"RFM for {rfm['purchasers']:,} purchasers {rfm_s:.1f} s",
        f"- segment count: everyone {sizes[everyone]:,} profiles in "
        f"{sizes[everyone + ':count_s']:.2f} s; buyers with e-mail {sizes[tenth]:,} in "
        f"{sizes[tenth + ':count_s']:.2f} s",
        f"- baseline, raw store paging every profile with its members (no condition, no "
        f"file): {paged:,} profiles in {baseline_s:.1f} s ({paged / baseline_s:,.0f}/s)",
        f"- idle `idgraph worker --burst` (empty queue): {idle_s:.1f} s, peak RSS "
        f"{idle_mib:.0f} MiB",
        "",
        "| segment | members | format | rows | skipped | file | job time | rows/s | "
        "worker process | peak RSS worker | peak RSS work horse (runs the job) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sid, fmt, result, job_s, seconds, mib, horse_mib in runs:
        name = "everyone" if sid == everyone else "buyers with e-mail"
        members = result["rows"] + result["skipped"]
        lines.append(
            f"| {name} | {members:,} | {fmt} | {result['rows']:,} | {result['skipped']:,} | "
            f"{result['bytes'] / 2**20:.1f} MiB | {job_s:.1f} s | {members / job_s:,.0f} | "
            f"{seconds:.1f} s | {mib:.0f} MiB | {horse_mib:.0f} MiB |"
        )
    publish("Audience export (100k profiles)", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
