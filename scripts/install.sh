#!/usr/bin/env bash
# Create .venv and install the advisor with its test extras. Idempotent: a stamp keyed on
# pyproject.toml skips the work when nothing changed. torch is pinned and installed first, because an
# unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet torch==2.13.0 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install --quiet -e ".[dev]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import assistant, torch, sentence_transformers, chromadb, gradio" \
    || { echo "error: the install did not complete; see the pip output above" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ "${1:-}" = "--browser" ]; then
  # System packages the tests use: Debian's Chromium (driven by Playwright; no browser download is
  # possible here), CJK fonts for readable screenshots, PostgreSQL for the audit-trail server tests, and
  # nginx for the loopback deployment test (two app processes behind a sticky proxy, one killed mid-burst).
  need=""
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
  fc-list 2>/dev/null | grep -qi "noto sans cjk" || need="$need fonts-noto-cjk"
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$need nginx"
  if [ -n "$need" ]; then
    if [ "$(id -u)" = "0" ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null) \
        || echo "warning: could not install$need; the tests that need them will be skipped" >&2
    else
      echo "warning: missing$need (sudo apt-get install$need); the tests that need them will be skipped" >&2
    fi
  fi
fi
