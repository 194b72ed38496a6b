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

otlp_url="http://${SIEVE_OTLP_ENDPOINT/#0.0.0.0:/127.0.0.1:}"
receiver_ops="${SIEVE_RECEIVER_OPS_PORT:-13133}"
loader_ops="${SIEVE_LOADER_OPS_PORT:-13134}"
ops_host="${SIEVE_OPS_HOST/#0.0.0.0/127.0.0.1}"

# The three commands to try next; when ports are not the defaults, the env a second terminal needs.
print_next_steps() {
  local env=()
  [[ "$otlp_url" != "http://127.0.0.1:4318" ]] && env+=("OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_url")
  [[ "$CLICKHOUSE_URL" != "http://127.0.0.1:8123" ]] && env+=("CLICKHOUSE_URL=$CLICKHOUSE_URL")
  [[ -n "${CLICKHOUSE_DATABASE:-}" && "$CLICKHOUSE_DATABASE" != otel ]] && env+=("CLICKHOUSE_DATABASE=$CLICKHOUSE_DATABASE")
  [[ "$receiver_ops" != 13133 ]] && env+=("SIEVE_RECEIVER_OPS_PORT=$receiver_ops")
  [[ "$loader_ops" != 13134 ]] && env+=("SIEVE_LOADER_OPS_PORT=$loader_ops")
  echo
  echo "up: Sieve is ready (Ctrl-C stops it). In another terminal, try:"
  (( ${#env[@]} > 0 )) && echo "  export ${env[*]}"
  echo "  npx sieve demo            # 30 s of AI-agent traffic through the OpenTelemetry SDK"
  echo "  npx sieve stats --watch   # what arrived: services, LLM calls and cost, logs, pipeline health"
  echo "  OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_url <your service>   # your own telemetry"
  echo
  return 0
}

# ready: both ops endpoints answer /readyz (the receiver reaches Kafka, the loader reaches ClickHouse)
ready() {
  node -e 'Promise.all(process.argv.slice(1).map((u) => fetch(u).then((r) => r.ok))).then((ok) => process.exit(ok.every(Boolean) ? 0 : 1), () => process.exit(1))' \
    "http://$ops_host:$receiver_ops/readyz" "http://$ops_host:$loader_ops/readyz"
}

echo "up: starting sieve all (dev mode: no API keys) on $otlp_url (OTLP/HTTP) and http://${SIEVE_OTLP_GRPC_ENDPOINT} (OTLP/gRPC)"
set +e
node --max-semi-space-size=64 "$ROOT/bin/sieve.mjs" all --dev "$@" &
sieve_pid=$!
trap 'kill -TERM "$sieve_pid" 2>/dev/null' INT TERM
(
  while kill -0 "$sieve_pid" 2>/dev/null; do
    if ready; then print_next_steps; exit 0; fi
    sleep 1
  done
) &
wait "$sieve_pid"; status=$?
# a signal interrupts the first wait; wait again for the graceful shutdown to finish
if kill -0 "$sieve_pid" 2>/dev/null; then wait "$sieve_pid"; status=$?; fi
exit "$status"
