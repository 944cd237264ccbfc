#!/usr/bin/env bash
# Take the console's screenshots in docs/console/ again: the browser test drives
# Debian's headless Chromium through every page and saves one picture of each.
set -euo pipefail
cd "$(dirname "$0")/.."
IDGRAPH_SCREENSHOTS="$PWD/docs/console" .venv/bin/pytest -q \
  tests/integration/test_console_browser.py "$@"
