#!/usr/bin/env bash
# Installs npm packages when node_modules is missing or older than package-lock.json.
# Sourced by test.sh, up.sh and bench.sh so each works on a fresh clone with nothing typed first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stamp="$ROOT/node_modules/.package-lock.json"
if [[ ! -f "$stamp" || "$ROOT/package-lock.json" -nt "$stamp" ]]; then
  echo "deps: installing npm packages from package-lock.json…"
  # `npm install` (not `npm ci`): it installs the locked versions too, and tolerates lock files that
  # omit other platforms' optional packages (this machine's npm config prunes them).
  (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
fi
