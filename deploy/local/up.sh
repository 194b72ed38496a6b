#!/usr/bin/env bash
# npm run up: Sieve end to end on this machine.
# Installs what is missing, starts local Kafka + ClickHouse (if not already up), applies the
# ClickHouse migrations and runs `sieve all` (receiver + loader) in the foreground.
# Ctrl-C stops Sieve gracefully (flushes, commits) and then the services this script started.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
source "$HERE/lib.sh"
bash "$HERE/ensure-deps.sh"

started_services=0
if ! bash "$HERE/services.sh" status >/dev/null 2>&1; then
  started_services=1
fi
bash "$HERE/services.sh" start

# Hashing PII needs a secret key. Locally one is generated once and kept in the data folder;
# production sets SIEVE_HASH_KEY or SIEVE_HASH_KEY_FILE from its secret store.
if [[ -z "${SIEVE_HASH_KEY:-}" && -z "${SIEVE_HASH_KEY_FILE:-}" ]]; then
  key_file="$SIEVE_DATA_DIR/hash.key"
  if [[ ! -s "$key_file" ]]; then
    mkdir -p "$SIEVE_DATA_DIR"
    (umask 077 && node -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))" > "$key_file")
    echo "up: generated a local PII hashing key in $key_file"
  fi
  export SIEVE_HASH_KEY_FILE="$key_file"
fi

# Local development listens on loopback only; production (compose) binds 0.0.0.0 by default.
export SIEVE_OTLP_ENDPOINT="${SIEVE_OTLP_ENDPOINT:-127.0.0.1:4318}"
export SIEVE_OTLP_GRPC_ENDPOINT="${SIEVE_OTLP_GRPC_ENDPOINT:-127.0.0.1:4317}"
export SIEVE_OPS_HOST="${SIEVE_OPS_HOST:-127.0.0.1}"

cleanup() {
  if [[ "$started_services" == 1 && "${SIEVE_UP_KEEP_SERVICES:-0}" != 1 ]]; then
    echo "up: stopping the local services started by this run (set SIEVE_UP_KEEP_SERVICES=1 to keep them)"
    bash "$HERE/services.sh" stop || true
  fi
}
trap cleanup EXIT

echo "up: starting sieve all (dev mode: no API keys). Point services at OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (OTLP/HTTP) or http://127.0.0.1:4317 (OTLP/gRPC)"
set +e
node "$ROOT/bin/sieve.mjs" all --dev "$@" &
sieve_pid=$!
trap 'kill -TERM "$sieve_pid" 2>/dev/null' INT TERM
wait "$sieve_pid"; status=$?
# a signal interrupts the first wait; wait again for the graceful shutdown to finish
if kill -0 "$sieve_pid" 2>/dev/null; then wait "$sieve_pid"; status=$?; fi
exit "$status"
