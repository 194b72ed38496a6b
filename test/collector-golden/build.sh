#!/usr/bin/env bash
# Builds the real OpenTelemetry Collector (otelcol-sieve) used to regenerate the transform goldens
# and by the Kafka interop tests. Needs Go and the Go module proxy; CI does not run this (the
# goldens under test/collector-golden/cases are committed).
#   OTELCOL_DIR=/work/otelcol bash test/collector-golden/build.sh
# Output: $OTELCOL_DIR/otelcol-sieve (+ $OTELCOL_DIR/READY). Go build output stays in $OTELCOL_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OTELCOL_DIR:-/work/otelcol}"
builder_version="${OCB_VERSION:-v0.165.0}"
mkdir -p "$out"
export GOBIN="$out/bin" GOCACHE="${GOCACHE:-$out/gocache}" GOFLAGS="${GOFLAGS:--mod=mod}"
# One compile job at a time: the machine is shared.
export GOMAXPROCS="${GOMAXPROCS:-2}"

if [[ ! -x "$GOBIN/builder" ]]; then
  go install "go.opentelemetry.io/collector/cmd/builder@${builder_version}"
fi
"$GOBIN/builder" --config "$here/builder-config.yaml" --output-path "$out/src" --verbose
cp "$out/src/otelcol-sieve" "$out/otelcol-sieve"
"$out/otelcol-sieve" components > "$out/components.txt"
touch "$out/READY"
echo "built $out/otelcol-sieve"
