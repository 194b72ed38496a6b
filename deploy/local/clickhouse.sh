#!/usr/bin/env bash
# Local ClickHouse for development and CI: chDB (PyPI) behind a ClickHouse-HTTP adapter.
#
#   deploy/local/clickhouse.sh install   # venv in $SIEVE_CACHE_DIR/chdb-venv (default <repo>/.cache)
#   deploy/local/clickhouse.sh start     # background adapter on 127.0.0.1:${CLICKHOUSE_PORT:-8123}
#   deploy/local/clickhouse.sh stop      # SIGTERM, SIGKILL after ${CLICKHOUSE_STOP_TIMEOUT:-20}s
#   deploy/local/clickhouse.sh status    # exit 0 when running and answering /ping
#
# Data in $SIEVE_DATA_DIR/clickhouse (default <repo>/.data), pid in .data/run/clickhouse.pid,
# log in .data/logs/clickhouse.log. See deploy/local/clickhouse/chdb_server.py for what the
# adapter supports and where it differs from clickhouse-server.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE_DIR="${SIEVE_CACHE_DIR:-$REPO/.cache}"
DATA_DIR="${SIEVE_DATA_DIR:-$REPO/.data}"
VENV="$CACHE_DIR/chdb-venv"
REQS="$HERE/clickhouse/requirements.txt"
SERVER_PY="$HERE/clickhouse/chdb_server.py"
PORT="${CLICKHOUSE_PORT:-8123}"
HOST=127.0.0.1
PID_FILE="$DATA_DIR/run/clickhouse.pid"
LOG_FILE="$DATA_DIR/logs/clickhouse.log"
CH_DATA="$DATA_DIR/clickhouse"
START_TIMEOUT="${CLICKHOUSE_START_TIMEOUT:-60}"
STOP_TIMEOUT="${CLICKHOUSE_STOP_TIMEOUT:-20}"

say() { echo "clickhouse: $*"; }
die() { echo "clickhouse: error: $*" >&2; exit 1; }

ping_ok() {
  # prints nothing; succeeds when GET /ping answers "Ok."
  local out
  if command -v curl >/dev/null 2>&1; then
    out="$(curl -fsS --max-time 2 "http://$HOST:$PORT/ping" 2>/dev/null)" || return 1
  else
    out="$(python3 -c "import urllib.request,sys;print(urllib.request.urlopen('http://$HOST:$PORT/ping',timeout=2).read().decode(),end='')" 2>/dev/null)" || return 1
  fi
  [[ "$out" == Ok.* ]]
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # make sure the pid is still our adapter, not a recycled pid
  grep -q "chdb_server.py" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

reqs_stamp() { sha256sum "$REQS" | cut -d' ' -f1; }

cmd_install() {
  local stamp="$VENV/.requirements.sha256"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$(reqs_stamp)" ]] \
     && "$VENV/bin/python" -c "import chdb.session" >/dev/null 2>&1; then
    say "chDB venv up to date ($VENV)"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found"
  mkdir -p "$CACHE_DIR"
  if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating venv $VENV"
    python3 -m venv "$VENV"
  fi
  say "installing $(grep -v '^#' "$REQS" | grep -m1 chdb) (and its deps) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  "$VENV/bin/python" -c "import chdb, chdb.session; print('clickhouse: chDB engine', chdb.engine_version)"
  reqs_stamp > "$stamp"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if ping_ok; then
      say "already running (pid $pid) on http://$HOST:$PORT"
      return 0
    fi
    say "pid $pid exists but /ping does not answer yet; waiting"
  else
    if ping_ok; then
      die "something else already answers on http://$HOST:$PORT (not started by this script)"
    fi
    cmd_install
    mkdir -p "$(dirname "$PID_FILE")" "$(dirname "$LOG_FILE")" "$CH_DATA"
    # setsid + nohup: the adapter survives the calling shell and its process group.
    CLICKHOUSE_PORT="$PORT" setsid nohup "$VENV/bin/python" -u "$SERVER_PY" \
      --host "$HOST" --port "$PORT" --data "$CH_DATA" >>"$LOG_FILE" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$PID_FILE"
    say "starting (pid $pid), log $LOG_FILE"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ping_ok; then
      say "ready on http://$HOST:$PORT (pid $pid, data $CH_DATA)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse: error: adapter exited during start-up; last log lines:" >&2
      tail -n 30 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.3
  done
  echo "clickhouse: error: no 'Ok.' from http://$HOST:$PORT/ping after ${START_TIMEOUT}s; last log lines:" >&2
  tail -n 30 "$LOG_FILE" >&2 || true
  exit 1
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if ping_ok; then
      say "running (pid $pid) on http://$HOST:$PORT, data $CH_DATA"
      return 0
    fi
    say "pid $pid alive but http://$HOST:$PORT/ping does not answer"
    return 1
  fi
  say "not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|restart|status" >&2; exit 2 ;;
esac
