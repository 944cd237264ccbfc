"""scikit-learn's OpenMP threads wait asleep unless the operator says otherwise
(ml/openmp.py; the effect on a busy machine is in docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys

from ml.openmp import passive_waits


def test_threads_wait_passively_unless_the_environment_says_how() -> None:
    env: dict[str, str] = {}
    passive_waits(env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE"}
    chosen = {"OMP_WAIT_POLICY": "ACTIVE"}
    passive_waits(chosen)
    assert chosen == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_the_command_sets_it_before_scikit_learn_loads() -> None:
    """The ``idgraph`` entry point asks for passive waits before any command runs, and
    no command module imports scikit-learn on the way (libgomp reads the policy once,
    when it loads)."""
    probe = (
        "import os, sys\n"
        "import app.cli\n"
        "assert not any(m.startswith('sklearn') for m in sys.modules), 'loaded too early'\n"
        "os.environ.pop('OMP_WAIT_POLICY', None)\n"
        "sys.argv = ['idgraph', '--help']\n"
        "try:\n"
        "    app.cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "PASSIVE"
