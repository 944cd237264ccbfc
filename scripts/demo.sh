#!/usr/bin/env bash
# Set up (once) and run the demo: synthetic customers, ingest, resolve, serve the API.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/idgraph demo "$@"
