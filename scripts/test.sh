#!/usr/bin/env bash
# Install if needed (with Chromium and PostgreSQL for the end-to-end tests) and run the whole test suite.
#   bash scripts/test.sh           everything (what CI runs)
#   bash scripts/test.sh --fast    the inner loop: everything but the tests marked slow (servers, browser,
#                                  fuzz, kill -9, PostgreSQL, CLI processes), keeping the models' vectors
#                                  between runs in .cache/ (the full suite always embeds afresh)
# Any other arguments go to pytest (e.g. bash scripts/test.sh --fast tests/test_retrieval.py -x).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
marker=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then marker=(-m "not slow"); export ADVISOR_TEST_VECTORS="$PWD/.cache/test-vectors"
  else args+=("$arg"); fi
done
if [ ${#marker[@]} -eq 0 ]; then
  bash scripts/install.sh --browser
else
  bash scripts/install.sh
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "${marker[@]}" "${args[@]}"
