# Shared helpers for deploy/local/*.sh (sourced, not run).
#   SIEVE_REPO       repository root
#   SIEVE_DATA_DIR   runtime state: data, logs/, run/ (pid files)   default <repo>/.data
#   SIEVE_CACHE_DIR  downloaded artifacts (jars, venvs)              default <repo>/.cache
#   KAFKA_PORT       local broker port (controller: KAFKA_PORT+1)    default 9092
#   CLICKHOUSE_PORT  local ClickHouse HTTP port                      default 8123
# KAFKA_BROKERS and CLICKHOUSE_URL default to these ports and are exported, so that tests,
# benchmarks and `sieve` started from these scripts reach the services they started.

SIEVE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIEVE_DATA_DIR="${SIEVE_DATA_DIR:-$SIEVE_REPO/.data}"
SIEVE_CACHE_DIR="${SIEVE_CACHE_DIR:-$SIEVE_REPO/.cache}"
SIEVE_RUN_DIR="$SIEVE_DATA_DIR/run"
SIEVE_LOG_DIR="$SIEVE_DATA_DIR/logs"
export KAFKA_PORT="${KAFKA_PORT:-9092}"
export CLICKHOUSE_PORT="${CLICKHOUSE_PORT:-8123}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export CLICKHOUSE_URL="${CLICKHOUSE_URL:-http://127.0.0.1:$CLICKHOUSE_PORT}"

# port_open HOST PORT: succeeds when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_port_closed HOST PORT SECONDS: succeeds once nothing listens there any more.
wait_port_closed() {
  local deadline=$((SECONDS + $3))
  while port_open "$1" "$2"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

# pid_matching PIDFILE PATTERN: prints the pid from PIDFILE when that process is alive and its
# command line contains PATTERN (guards against recycled pids); fails otherwise.
pid_matching() {
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# stop_pid PID SECONDS LABEL: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pid() {
  local pid="$1" timeout="$2" label="$3"
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$label: pid $pid still running after ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}

# elapsed_since START_EPOCH_NS: prints seconds elapsed with one decimal.
elapsed_since() {
  local now
  now="$(date +%s%N)"
  awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}
