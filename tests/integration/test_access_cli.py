"""Keys and the audit trail through the real CLI and a real server over HTTP."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_cli, start_serve
from tests.integration.test_cli import _free_port, _wait_for


def _get(url: str, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_keys_cli_and_a_real_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        refused = run_cli("serve", "--host", "0.0.0.0", "--port", "1", data_dir=data_dir)
        assert refused.returncode == 1 and "no API key exists yet" in refused.stderr
        created = run_cli("keys", "create", "--name", "desk", "--scope", "read",
                          data_dir=data_dir)  # fmt: skip
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip().splitlines()[-1]
        assert key.startswith("idg_") and len(key) == 47
        admin = run_cli("keys", "create", "--name", "officer", "--scope", "admin",
                        "--expires", "2099-01-01", data_dir=data_dir)  # fmt: skip
        assert "expires 2099-01-01T00:00:00Z" in admin.stdout
        again = run_cli("keys", "create", "--name", "desk", "--scope", "read", data_dir=data_dir)
        assert again.returncode == 1 and "exists already" in again.stderr
        past = run_cli("keys", "create", "--name", "old", "--scope", "read", "--expires",
                       "2001-01-01", data_dir=data_dir)  # fmt: skip
        assert past.returncode == 1 and "in the past" in past.stderr

        port = _free_port()
        server = start_serve(data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/health", server, timeout=60)
            assert _get(f"{base}/v1/profiles/p-none") == 401
            assert _get(f"{base}/v1/profiles/p-none", key) == 404  # in, nothing there
            assert _get(f"{base}/v1/keys", key) == 403
            revoked = run_cli("keys", "revoke", "desk", data_dir=data_dir)
            assert revoked.returncode == 0
            assert _get(f"{base}/v1/profiles/p-none", key) == 401  # at once
        finally:
            server.send_signal(signal.SIGTERM)
            out, err = server.communicate(timeout=60)
        assert key not in out + err  # never in the server's output or logs

        listing = run_cli("keys", "list", "--json", data_dir=data_dir)
        rows = {r["name"]: r for r in json.loads(listing.stdout)}
        assert rows["desk"]["status"] == "revoked" and rows["desk"]["last_used_at"]
        assert rows["officer"]["scopes"] == ["admin"] and rows["officer"]["status"] == "active"
        assert key not in listing.stdout
        table = run_cli("keys", "list", data_dir=data_dir).stdout
        assert "desk" in table and "revoked" in table and key not in table
        assert run_cli("keys", "revoke", "desk", data_dir=data_dir).returncode == 3

        trail = run_cli("audit", "--json", data_dir=data_dir)
        entries = [json.loads(line) for line in trail.stdout.splitlines()]
        actions = [(e["key"], e["action"], e["status"]) for e in entries]
        assert ("(no key)", "GET profiles.profile", 401) in actions
        assert ("desk", "GET profiles.profile", 404) in actions
        assert ("desk", "GET access.list_keys", 403) in actions
        assert ("(invalid key)", "GET profiles.profile", 401) in actions
        commands = [e["action"] for e in entries if e["key"].startswith("cli")]
        assert commands == ["keys create", "keys create", "keys revoke"]
        only = run_cli("audit", "--json", "--key", "desk", data_dir=data_dir).stdout
        assert {json.loads(line)["key"] for line in only.splitlines()} == {"desk"}
        later = run_cli("audit", "--since", "2099-01-01", data_dir=data_dir)
        assert later.returncode == 0 and later.stdout == ""
    finally:
        run_cli("store", "stop", data_dir=data_dir)


@pytest.mark.parametrize("bad", ["short", ""])
def test_imported_keys_must_be_long(tmp_path: Path, bad: str) -> None:
    secret = tmp_path / "key.txt"
    secret.write_text(bad)
    result = run_cli("keys", "import", "--name", "admin", "--scope", "admin", "--key-file",
                     str(secret), data_dir=tmp_path / "d")  # fmt: skip
    assert result.returncode == 1 and "at least 32 characters" in result.stderr


def test_serve_imports_the_admin_key_from_a_secret_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    secret = tmp_path / "admin-key.txt"
    key = "idg_" + "s3cret-from-compose-" * 3
    secret.write_text(key + "\n")
    port = _free_port()
    server = start_serve(data_dir, port, "--host", "0.0.0.0",
                         env={"IDGRAPH_ADMIN_KEY_FILE": str(secret)})  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", server, timeout=60)
        assert _get(f"http://127.0.0.1:{port}/v1/keys", key) == 200
        assert _get(f"http://127.0.0.1:{port}/v1/keys") == 401
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert "imported the admin key" in out and key not in out + err
