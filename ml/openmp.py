"""How scikit-learn's OpenMP threads wait: asleep, not spinning.

The link model's tree ensembles run on OpenMP threads (libgomp), which by default
spin for a while whenever they wait for work. On a machine busy with other processes
— the API server, the embedded store, ``train``'s own forked child making the
decisions' rows (:mod:`ml.background`) — a spinning thread takes the core another
thread needs: ``train`` on one quality world took 116 and 174 s beside a resolve against
23 s with the threads waiting passively (docs/benchmarks.md, "Link model"). libgomp
reads its policy once, when it is loaded, so this runs before scikit-learn is
imported: at the start of the ``idgraph`` command and of the benchmarks.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["passive_waits"]


def passive_waits(environ: MutableMapping[str, str] | None = None) -> None:
    """Ask OpenMP threads to sleep while they wait, unless the environment already
    says how (``OMP_WAIT_POLICY``: an operator's choice wins)."""
    env = os.environ if environ is None else environ
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
