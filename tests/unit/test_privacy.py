"""Masking of free text (log lines) and the masking log set-up of every process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from graph.privacy import mask_text
from graph.store.persistence import drop_crash_reports


def test_mask_text_hides_emails_and_phones_and_keeps_the_rest() -> None:
    line = ("lookup of Jane.Doe+x@Example.co.uk failed; phone +14155550123 or "
            "(415) 555-0123, at 1764633600000 ms, 12 events, batch 3-4")  # fmt: skip
    masked = mask_text(line)
    assert "Jane.Doe" not in masked and "Example" not in masked
    assert "J***@E***.uk" in masked
    assert "4155550123" not in masked and "555-0123" not in masked
    assert "+*********23" in masked and "1764633600000 ms, 12 events, batch 3-4" in masked


@given(st.from_regex(r"[a-z]{1,10}\.[a-z]{1,10}@[a-z]{2,10}\.(com|org|de)", fullmatch=True),
       st.text(alphabet=st.characters(blacklist_characters="@"), max_size=30))  # fmt: skip
def test_no_email_survives_mask_text(email: str, around: str) -> None:
    assert email not in mask_text(f"{around} {email} {around}")


def test_every_log_line_and_traceback_is_masked() -> None:
    """A real process with idgraph's log set-up: messages of any logger and the text
    of a logged exception come out masked."""
    script = (
        "import logging; from app.logs import configure_logging\n"
        "configure_logging('INFO')\n"
        "logging.getLogger('rq.worker').info('job for %s', 'ann.lee@example.com')\n"
        "try:\n"
        "    raise KeyError('+14155550199')\n"
        "except KeyError:\n"
        "    logging.getLogger('x').exception('failed')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert "job for a***@e***.com" in result.stderr
    assert "KeyError" in result.stderr and "+*********99" in result.stderr
    assert "ann.lee" not in result.stderr and "4155550199" not in result.stderr


def test_crash_reports_are_cut_from_a_server_log(tmp_path: Path) -> None:
    """Every report goes, also one the server died writing (no end marker): FalkorDB's
    part of it lists the running queries' parameters; the lines around stay."""
    log = tmp_path / "server.log"
    assert not drop_crash_reports(log)  # no log yet
    log.write_text("started\n")
    assert not drop_crash_reports(log) and log.read_text() == "started\n"
    report = (
        "=== REDIS BUG REPORT START: Cut & paste starting from here ===\n"
        'graph_command:GRAPH.QUERY CYPHER `keys`=[["email","ann@example.com"]]\n'
        "=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n"
    )
    truncated = "=== REDIS BUG REPORT START: Cut & paste ===\nbob@example.com\n"
    log.write_text(f"started\n{report}restarted\n{truncated}")
    assert drop_crash_reports(log)
    text = log.read_text()
    assert "example.com" not in text and "BUG REPORT" not in text
    assert text.startswith("started\n[a crash report was removed")
    assert "\nrestarted\n[a crash report was removed" in text
