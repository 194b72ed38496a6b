#!/usr/bin/env bash
# Installs npm packages when node_modules is missing or older than package-lock.json.
# Sourced by test.sh, up.sh and bench.sh so each works on a fresh clone with nothing typed first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stamp="$ROOT/node_modules/.package-lock.json"
if [[ ! -f "$stamp" || "$ROOT/package-lock.json" -nt "$stamp" ]]; then
  echo "deps: installing npm packages (npm ci)…"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
