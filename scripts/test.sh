#!/usr/bin/env bash
# Set up (once) and run every check: lint, format, types, the whole test suite.
# Works on a fresh machine with Python >= 3.11; everything else is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

echo "== ruff check";  .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy";        .venv/bin/mypy app graph ml
echo "== pytest";      .venv/bin/pytest "$@"
