#!/usr/bin/env bash
# Install if needed (with Chromium for the browser tests) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
