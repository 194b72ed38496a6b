#!/usr/bin/env bash
# npm test: installs what is missing, starts local Kafka + ClickHouse if they are not up,
# then runs unit tests and integration tests with node's test runner.
#   npm test            # everything
#   npm test -- unit    # unit tests only (no services needed)
#   npm test -- integration
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh
source "$HERE/lib.sh" # exports KAFKA_BROKERS / CLICKHOUSE_URL for the local services' ports
bash "$HERE/ensure-deps.sh"

which="${1:-all}"
files=()
if [[ "$which" == all || "$which" == unit ]]; then
  while IFS= read -r f; do files+=("$f"); done < <(find test/unit -name '*.test.ts' | sort)
fi
if [[ "$which" == all || "$which" == integration ]]; then
  bash "$HERE/services.sh" start
  while IFS= read -r f; do files+=("$f"); done < <(find test/integration -name '*.test.ts' | sort)
fi
# Files run one at a time: several integration tests stop and restart the shared Kafka or
# ClickHouse to prove recovery, which must not overlap with another file's traffic.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
