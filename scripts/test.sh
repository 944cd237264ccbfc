#!/usr/bin/env bash
# Set up (once) and run every check: lint, format, types, the whole test suite
# (which includes the Neo4j Cypher lint and the console in headless Chromium). Works on a fresh machine with Python >= 3.11
# and Node.js >= 18; everything else is installed here, into .venv/ and node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "Node.js and npm are needed for the Neo4j Cypher lint (Neo4j's own language service)." >&2
  exit 1
fi
if [ ! -d node_modules/@neo4j-cypher/language-support ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --silent --no-audit --no-fund
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  # the console's browser tests drive Debian's Chromium; nothing downloads a browser
  echo "== installing Debian's chromium and chromium-driver (browser tests)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

echo "== ruff check";  .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy";        .venv/bin/mypy app graph ml
echo "== imports";     .venv/bin/lint-imports --no-cache
echo "== pytest";      .venv/bin/pytest "$@"
