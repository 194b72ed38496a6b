#!/usr/bin/env bash
# Regenerates test/collector-golden/golden/*.json with the real Collector (see build.sh).
#   bash test/collector-golden/regenerate.sh            # uses /work/otelcol/otelcol-sieve
#   OTELCOL=/path/to/otelcol bash test/collector-golden/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import tsx test/collector-golden/regenerate.ts
