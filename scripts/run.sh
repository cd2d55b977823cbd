#!/usr/bin/env bash
# Install if needed, bring the store up to date with knowledge/, start the app on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/advisor ingest
exec .venv/bin/python app.py
