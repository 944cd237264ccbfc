"""Console pages on a store of ~100k profiles: how long each page takes to answer.

    python bench/console.py --persons 31000 --repeat 30

Generates data, ingests and resolves it into a fresh embedded store, records the
graph's health, computes RFM and defines two segments, then serves the app on
waitress in this process and signs in to the console as a browser would (the
session cookie). Each page is asked ``--repeat`` times, one request at a time,
rotating over customers found by a phone number as a caller says it; reported:
p50, p95 and the slowest answer, server and HTTP included, as the client saw it.
Baselines from the same run: ``/health`` (the server's floor) and the JSON API's
``GET /v1/profiles/{id}`` for the same profiles (what the profile page adds to it).
The goal (issue #14): every page under 300 ms.
"""

from __future__ import annotations

import random
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, percentile, publish, serve_in_thread, workspace

from app.linking import record_health
from app.resources import open_resources
from app.rfm import run_rfm
from app.segments import create_segment
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve

GOAL_MS = 300.0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(
    url: str, headers: dict[str, str], data: bytes | None = None
) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def sign_in(base: str, key: str) -> dict[str, str]:
    """The console's sign-in, as a browser does it; returns the headers a signed-in
    browser sends (the session cookie)."""
    request = urllib.request.Request(f"{base}/sign-in")
    with OPENER.open(request, timeout=30) as response:
        page = response.read().decode()
        signin_cookie = response.headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = urllib.parse.urlencode({"api_key": key, "csrf_token": token.group(1), "next": "/"})
    status, _, headers = fetch(f"{base}/sign-in", {"Cookie": signin_cookie}, form.encode())
    assert status == 303, status
    session = headers["Set-Cookie"].split(";")[0]
    return {"Cookie": session}


def main() -> None:
    args = parse_args(__doc__, persons=31000, repeat=30)
    _work, data, config = workspace(args.persons, prefix="idgraph-bench-console-")
    lines: list[str] = []
    with open_resources(config) as res:
        started = time.perf_counter()
        report = res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        resolved = resolve(res.store, res.registry, res.resolve_settings())
        record_health(res, model_links=0)
        resolve_s = time.perf_counter() - started
        run_rfm(res)
        buyers = create_segment(res, {"name": "buyers with e-mail", "rule": {"and": [
            {"field": "purchase_count", "op": ">=", "value": 1}, {"has": "email"}]}})  # fmt: skip
        create_segment(res, {"name": "champions", "rule": {
            "field": "rfm.group", "op": "=", "value": "Champions"}})  # fmt: skip
        assignments = res.store.assignments()
        phones = sorted((i.value, pid) for i, pid in assignments.items() if i.type == "phone")
        random.Random(7).shuffle(phones)
        sample = phones[: args.repeat]
        members = {pid: res.store.profile_member_keys(pid) for _, pid in sample}
        server, base, key = serve_in_thread(config, res)
        try:
            browser = sign_in(base, key)
            api = {"Authorization": f"Bearer {key}"}
            sid = buyers["segment_id"]

            def spoken(e164: str) -> str:
                return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"

            def first(pid: str) -> str:
                m = members[pid][0]
                return urllib.parse.urlencode({"type": m.type, "value": m.value})

            pages = {
                "`/health` (baseline: the server's floor)": (lambda p, pid: "/health", {}),
                "`GET /v1/profiles/{id}` (baseline: the JSON API)": (
                    lambda p, pid: f"/v1/profiles/{pid}", api),
                "home `/`": (lambda p, pid: "/", browser),
                "search, a phone as said (answers with a redirect)": (
                    lambda p, pid: "/search?" + urllib.parse.urlencode({"q": spoken(p)}), browser),
                "profile page": (lambda p, pid: f"/profiles/{pid}", browser),
                "cluster picture (JSON)": (lambda p, pid: f"/profiles/{pid}/cluster.json", browser),
                "cluster picture with IPs": (
                    lambda p, pid: f"/profiles/{pid}/cluster.json?ips=1", browser),
                "explanation (JSON)": (
                    lambda p, pid: f"/profiles/{pid}/explain.json?{first(pid)}", browser),
                "segments (list, RFM chart, exports)": (lambda p, pid: "/segments", browser),
                "segment editor": (lambda p, pid: f"/segments/{sid}", browser),
                "segment member preview (loaded after the editor)": (
                    lambda p, pid: f"/segments/{sid}/preview", browser),
                "segment live count (loaded after the list)": (
                    lambda p, pid: f"/segments/{sid}/count.json", browser),
                "operations": (lambda p, pid: "/operations", browser),
            }  # fmt: skip
            rows = []
            for name, (path_of, headers) in pages.items():
                times = []
                for phone, pid in sample:
                    path = path_of(phone, pid)
                    begin = time.perf_counter()
                    status, _, _ = fetch(base + path, headers)
                    times.append((time.perf_counter() - begin) * 1000)
                    assert status in (200, 302), (path, status)
                p50, p95, worst = percentile(times, 50), percentile(times, 95), max(times)
                verdict = "" if "baseline" in name else ("yes" if p95 < GOAL_MS else "**no**")
                rows.append(f"| {name} | {p50:.1f} | {p95:.1f} | {worst:.1f} | {verdict} |")
        finally:
            server.close()
        profiles = len(res.store.active_profiles())
    lines.append(
        f"Command: `python bench/console.py --persons {args.persons} --repeat {args.repeat}` "
        f"({report.accepted:,} events, {profiles:,} profiles, "
        f"{resolved.identifiers:,} identifiers; ingest {ingest_s:.0f} s, resolve "
        f"{resolve_s:.0f} s). One request at a time, {args.repeat} customers each found by "
        "a phone number; times in ms as the client saw them (HTTP on loopback included)."
    )
    lines.append("")
    lines.append("| page | p50 | p95 | slowest | p95 under 300 ms |")
    lines.append("|---|---:|---:|---:|---|")
    lines.extend(rows)
    publish("Console pages (100k profiles)", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
