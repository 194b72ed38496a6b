#!/usr/bin/env bash
# npm run bench: starts local services if needed and runs every benchmark in test/bench.
#   npm run bench                 # all
#   npm run bench -- receiver     # benchmarks whose file name contains "receiver"
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh
source "$HERE/lib.sh" # exports KAFKA_BROKERS / CLICKHOUSE_URL for the local services' ports
bash "$HERE/ensure-deps.sh"
bash "$HERE/services.sh" start
filter="${1:-}"
for f in $(find test/bench -name '*.bench.ts' | sort); do
  [[ -z "$filter" || "$f" == *"$filter"* ]] || continue
  echo "== $f"
  node --import tsx "$f"
done
