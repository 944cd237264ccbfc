"""After an erasure, the erased values are nowhere in the data directory or the logs.

Real CLI, real store, a real worker for the audience exports, a real server (at debug
log level) that looks the customers up, takes events with their values and erases
one of them. The erased customers' e-mails and phones (and the SHA-256 forms hashed
audience files use) are searched as bytes in every file of the data directory — the
store's append-only file after it was rewritten at stop, reject files, export files,
the audit trail (inside the store), the store's log — and in every log (standard
error) of every command, the worker and the server.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

from app.audiences import hash_email, hash_phone_e164, hash_phone_meta
from tests.conftest import run_cli, serving


def _call(url: str, key: str, method: str = "GET", body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _grep(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        hits += [f"{path.relative_to(root)}: {n!r}" for n in needles if n in data]
    return hits


def test_an_erased_customer_leaves_no_trace(tmp_path: Path) -> None:
    data_dir, gen = tmp_path / "data", tmp_path / "gen"
    logs: list[str] = []
    answers: list[str] = []

    def cli(*args: str) -> str:
        result = run_cli("-vv", *args, data_dir=data_dir)
        assert result.returncode == 0, (args, result.stderr)
        logs.append(result.stderr)
        return result.stdout

    assert run_cli("generate", "--persons", "120", "--seed", "5", "--output", str(gen),
                   data_dir=tmp_path / "g").returncode == 0  # fmt: skip
    cli("store", "start")
    try:
        cli("ingest", str(gen / "events.jsonl"))
        assert list((data_dir / "rejects").glob("*.jsonl")), "the data has rejects"
        cli("resolve")
        created = cli("segments", "create", "--name", "everyone",
                      "--rule", '{"has": "email"}')  # fmt: skip
        segment = re.search(r"seg_[0-9a-z]+", created)
        assert segment
        for fmt in ("csv", "google_customer_match", "meta_custom_audience", "jsonl"):
            cli("export", "audience", segment.group(0), "--format", fmt, "--background")
        cli("worker", "--burst")
        exports = list((data_dir / "exports").rglob("*.*"))
        assert len([p for p in exports if p.suffix in (".csv", ".jsonl")]) == 4

        # three customers with an e-mail and a phone (the listing is written outside)
        cli("export", "profiles", "--output", str(tmp_path / "profiles.jsonl"))
        chosen: list[tuple[str, set[tuple[str, str]]]] = []
        for line in (tmp_path / "profiles.jsonl").read_text().splitlines():
            row = json.loads(line)
            members = {(i["type"], i["value"]) for i in row["identifiers"]}
            if {t for t, _ in members} >= {"email", "phone"} and len(chosen) < 3:
                chosen.append((row["profile_id"], members))
        assert len(chosen) == 3, "too few customers with an e-mail and a phone"
        needles: list[bytes] = []
        for _, members in chosen:
            for t, v in members:
                hashes = {"email": [hash_email(v)], "phone": [hash_phone_e164(v),
                                                              hash_phone_meta(v)]}  # fmt: skip
                forms = [v, *hashes[t]] if t in hashes else []
                needles += [f.lower().encode() for f in forms]
        assert _grep(data_dir / "exports", needles), "the exports held the customers"
        email = next(v for t, v in chosen[0][1] if t == "email")
        cli("lookup", "email", email)  # a read, audited (masked)
        changed = 0
        for profile, _ in chosen[1:]:
            answer = cli("erase", "profile", profile)
            answers.append(answer)
            changed += json.loads(answer)["files"]["files_changed"]
        assert changed >= 4

        # the server: look-ups, events carrying the values (one with a bad phone
        # beside them, so a reject file is written), then the erasure through the API
        key = cli("keys", "create", "--name", "ops", "--scope", "read", "--scope", "ingest",
                  "--scope", "admin").strip().splitlines()[-1]  # fmt: skip
        server = serving(data_dir, env={"IDGRAPH_LOG_LEVEL": "DEBUG"})
        with server as live:
            base = live.base
            for t, v in sorted(chosen[0][1]):
                if t in ("email", "phone"):
                    _call(f"{base}/v1/identifiers/{t}/{urllib.parse.quote(v)}/profile", key)
            phone = next(v for t, v in chosen[0][1] if t == "phone")
            events = [{"event_id": f"late-{n}", "timestamp": "2026-11-30T10:00:00Z",
                       "type": "login", "source": "web",
                       "identifiers": {"email": email, "phone": phone if n else "555"}}
                      for n in range(2)]  # fmt: skip
            posted = _call(f"{base}/v1/events", key, "POST", {"events": events})
            assert isinstance(posted, dict) and posted["errors"], posted
            # and as Segment messages, one of them unusable (a track without a name); an
            # anonymousId, not a userId: a second user_id would split the customer (one
            # user_id a profile), and the erasure takes the profile as resolution sees it
            batch = [{"type": "identify", "messageId": "seg-late-1", "anonymousId": "a-late",
                      "traits": {"email": email, "phone": phone}},
                     {"type": "track", "messageId": "seg-late-2", "anonymousId": "a-late",
                      "context": {"traits": {"email": email}}}]  # fmt: skip
            collected = _call(f"{base}/v1/batch", key, "POST", {"batch": batch})
            assert isinstance(collected, dict) and collected["rejected"] == 1, collected
            profile = _call(f"{base}/v1/identifiers/email/{urllib.parse.quote(email)}/profile",
                            key)  # fmt: skip
            assert isinstance(profile, dict)
            # the customer is one profile still: every value searched for is erased with it
            held = {(i["type"], i["value"]) for i in profile["profile"]["identifiers"]}
            assert held >= chosen[0][1] | {("anonymous_id", "a-late")}, held
            erased = _call(f"{base}/v1/profiles/{profile['profile']['profile_id']}", key,
                           "DELETE")  # fmt: skip
            answers.append(json.dumps(erased))
        logs.append(live.stderr)
        # each erasure rewrote the store's files at once: nothing waits for a stop
        assert [json.loads(a)["store_files"]["done"] for a in answers] == [True] * 3
        hits = _grep(data_dir, needles)
        assert hits == [], hits
    finally:
        cli("store", "stop")
    hits = _grep(data_dir, needles)
    assert hits == [], hits
    # each scrubbed export says what it holds now: its checksum
    sidecars = list((data_dir / "exports").rglob("*.erasure.json"))
    assert sidecars
    for sidecar in sidecars:
        export = sidecar.with_name(sidecar.name.removesuffix(".erasure.json"))
        data = export.read_bytes()
        assert json.loads(sidecar.read_text())["sha256"] == hashlib.sha256(data).hexdigest()
    assert sum(len(log) for log in logs) > 1000, "the logs say something at debug level"
    logged = "\n".join(logs).lower().encode()
    assert [n for n in needles if n in logged] == []
    told = "\n".join(answers).lower().encode()  # the erasures' answers name no value
    assert [n for n in needles if n in told] == []
