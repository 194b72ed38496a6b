#!/usr/bin/env bash
# Local services for development and CI: Kafka (deploy/local/kafka.sh) and ClickHouse
# (deploy/local/clickhouse.sh), started side by side.
#
#   deploy/local/services.sh start    # = npm run services: install what is missing, start what is
#                                     #   not running, wait until both answer (idempotent)
#   deploy/local/services.sh stop     # = npm run services:stop: graceful stop of both
#   deploy/local/services.sh restart
#   deploy/local/services.sh status   # exit 0 only when both are running and healthy
#   deploy/local/services.sh install  # download/prepare both without starting them (CI cache warm-up)
#
# Env: SIEVE_DATA_DIR (default <repo>/.data), SIEVE_CACHE_DIR (default <repo>/.cache).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
export SIEVE_DATA_DIR SIEVE_CACHE_DIR

SERVICES=(kafka clickhouse)

script_of() { echo "$HERE/$1.sh"; }

# run_all ACTION: runs "<service>.sh ACTION" for every service in parallel; fails if any failed.
run_all() {
  local action="$1" name script failed=0
  local -A pids=()
  for name in "${SERVICES[@]}"; do
    script="$(script_of "$name")"
    if [[ ! -f "$script" ]]; then
      echo "$name: $script not present; skipped"
      continue
    fi
    bash "$script" "$action" &
    pids[$name]=$!
  done
  for name in "${!pids[@]}"; do
    if ! wait "${pids[$name]}"; then
      failed=1
      echo "services: $name $action failed" >&2
    fi
  done
  return "$failed"
}

cmd_start() {
  local t0
  t0="$(date +%s%N)"
  if ! run_all start; then
    echo "services: start failed after $(elapsed_since "$t0")s (see the messages above; logs in $SIEVE_LOG_DIR)" >&2
    exit 1
  fi
  echo "services: up in $(elapsed_since "$t0")s"
  echo "  KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT   log $SIEVE_LOG_DIR/kafka.log"
  echo "  CLICKHOUSE_URL=http://127.0.0.1:$CLICKHOUSE_PORT   log $SIEVE_LOG_DIR/clickhouse.log"
  echo "  stop with: npm run services:stop"
}

cmd_stop() {
  run_all stop || exit 1
}

cmd_status() {
  local name script rc=0
  for name in "${SERVICES[@]}"; do
    script="$(script_of "$name")"
    if [[ ! -f "$script" ]]; then
      echo "$name: $script not present"
      rc=1
      continue
    fi
    bash "$script" status || rc=1
  done
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  install) run_all install || exit 1 ;;
  *) echo "usage: $0 start|stop|restart|status|install" >&2; exit 2 ;;
esac
