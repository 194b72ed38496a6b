#!/usr/bin/env bash
# Local Apache Kafka broker for development and CI: one KRaft node (broker + controller) from
# Maven Central jars, run by the machine's Java 17+.
#
#   deploy/local/kafka.sh install   # jars -> $SIEVE_CACHE_DIR/kafka/libs, format storage once
#   deploy/local/kafka.sh start     # background broker on 127.0.0.1:${KAFKA_PORT:-9092} (controller :KAFKA_PORT+1); idempotent
#   deploy/local/kafka.sh stop      # SIGTERM, SIGKILL after ${KAFKA_STOP_TIMEOUT:-30}s
#   deploy/local/kafka.sh restart   # stop + start (tests use stop/start to simulate an outage)
#   deploy/local/kafka.sh status    # exit 0 running and answering metadata, 1 unhealthy, 3 stopped
#   deploy/local/kafka.sh reset     # stop and delete the broker's data (all topics)
#
# Data in $SIEVE_DATA_DIR/kafka (default <repo>/.data), log in .data/logs/kafka.log,
# pid in .data/run/kafka.pid. Versions are in deploy/local/kafka/pom.xml.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

POM="$HERE/kafka/pom.xml"
TEMPLATE="$HERE/kafka/server.properties"
LOG4J="$HERE/kafka/log4j2.yaml"
HEALTH="$HERE/kafka/health.mjs"
LIBS="$SIEVE_CACHE_DIR/kafka/libs"
KAFKA_DATA="$SIEVE_DATA_DIR/kafka"
CONF="$KAFKA_DATA/server.properties"
PID_FILE="$SIEVE_RUN_DIR/kafka.pid"
LOG_FILE="$SIEVE_LOG_DIR/kafka.log"
OUT_FILE="$SIEVE_LOG_DIR/kafka.stdout"
HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
# C1 only (no C2): on a 2-core machine shared with the engine, Sieve and the load, the broker's C2
# compiler thread took 0.03-0.15 of a core for minutes after every start, half of the broker's CPU
# at 20k spans/s; C1 code serves a local broker's load with 0.10-0.12 of a core instead of 0.15-0.22
# (README, "Loader, freshness and request latency"). KAFKA_JIT_OPTS= (empty) restores the JVM default.
JIT_OPTS="${KAFKA_JIT_OPTS--XX:TieredStopAtLevel=1}"
JVM_OPTS="$JIT_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true"
MAIN=kafka.Kafka

say() { echo "kafka: $*"; }
die() { echo "kafka: error: $*" >&2; exit 1; }

show_log_tail() {
  echo "kafka: last log lines ($LOG_FILE):" >&2
  tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
  if [[ -s "$OUT_FILE" ]]; then
    echo "kafka: last stdout/stderr lines ($OUT_FILE):" >&2
    tail -n 10 "$OUT_FILE" >&2 || true
  fi
}

pom_stamp() { sha256sum "$POM" | cut -d' ' -f1; }

java_cmd() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null 2>&1 || die "java not found (Kafka 4 needs Java 17+; apt-get install openjdk-17-jre-headless)"
  echo "$java"
}

# our broker: the pid file's process, or (pid file lost) a kafka.Kafka process running our config
running_pid() {
  local pid
  if pid="$(pid_matching "$PID_FILE" "$MAIN $CONF")"; then
    echo "$pid"
    return 0
  fi
  pid="$(pgrep -f -x ".*java .* $MAIN $CONF" 2>/dev/null | head -n1 || true)"
  [[ -n "$pid" ]] || return 1
  mkdir -p "$SIEVE_RUN_DIR"
  echo "$pid" > "$PID_FILE"
  echo "$pid"
}

healthy() { # healthy [timeoutSeconds]: a real metadata request
  local timeout="${1:-5}"
  if command -v node >/dev/null 2>&1 && [[ -d "$SIEVE_REPO/node_modules/kafkajs" ]]; then
    node "$HEALTH" "$HOST:$PORT" "$timeout" >/dev/null 2>&1
  else
    # no kafkajs yet (npm install not run): fall back to the port
    local deadline=$((SECONDS + timeout))
    until port_open "$HOST" "$PORT"; do
      (( SECONDS < deadline )) || return 1
      sleep 0.3
    done
  fi
}

install_jars() {
  local stamp="$LIBS/.pom.sha256"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$(pom_stamp)" ]] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  local t0 tmp
  t0="$(date +%s%N)"
  tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  say "resolving Kafka jars with Maven into $LIBS (first run only)"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >"$tmp.mvn.log" 2>&1; then
    cat "$tmp.mvn.log" >&2
    rm -rf "$tmp" "$tmp.mvn.log"
    die "Maven could not resolve the jars in $POM"
  fi
  rm -f "$tmp.mvn.log"
  pom_stamp > "$tmp/.pom.sha256"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  say "jars ready: $(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename), $(ls "$LIBS" | wc -l) files, $(du -sh "$LIBS" | cut -f1) in $(elapsed_since "$t0")s"
}

render_config() {
  mkdir -p "$KAFKA_DATA" "$SIEVE_LOG_DIR" "$SIEVE_RUN_DIR"
  sed -e "s#@KAFKA_DATA@#$KAFKA_DATA/log#g" -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" "$TEMPLATE" > "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

format_storage() {
  render_config
  if [[ -f "$KAFKA_DATA/log/meta.properties" ]]; then
    return 0
  fi
  rm -rf "$KAFKA_DATA/log"
  local cluster_id java
  java="$(java_cmd)"
  # A Kafka cluster id is 16 random bytes, base64url without padding. Like Kafka's own
  # Uuid.randomUuid, never start it with '-': the format tool's argument parser would
  # take such an id for an option (1 run in 64 failed that way).
  cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  say "formatting storage $KAFKA_DATA/log (cluster id $cluster_id)"
  if ! "$java" -Xmx256m -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$SIEVE_LOG_DIR" \
      kafka.tools.StorageTool format --standalone --cluster-id="$cluster_id" --config "$CONF" \
      >"$KAFKA_DATA/format.out" 2>&1; then
    cat "$KAFKA_DATA/format.out" >&2
    rm -rf "$KAFKA_DATA/log"
    die "storage format failed"
  fi
}

cmd_install() {
  java_cmd >/dev/null
  install_jars
  format_storage
  say "installed ($(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename), data $KAFKA_DATA)"
}

cmd_start() {
  local t0 pid
  t0="$(date +%s%N)"
  if pid="$(running_pid)"; then
    if healthy 5; then
      say "already running (pid $pid) on $HOST:$PORT; log $LOG_FILE"
      return 0
    fi
    say "pid $pid is running but not answering yet; waiting"
  else
    if port_open "$HOST" "$PORT"; then
      die "something else already listens on $HOST:$PORT (not started by this script; no pid in $PID_FILE)"
    fi
    if port_open "$HOST" "$CONTROLLER_PORT"; then
      die "something else already listens on $HOST:$CONTROLLER_PORT (the controller port)"
    fi
    local java
    java="$(java_cmd)"
    install_jars
    format_storage
    # setsid + nohup: the broker survives the calling shell, its terminal and its process group.
    # shellcheck disable=SC2086
    setsid nohup "$java" $HEAP_OPTS $JVM_OPTS \
      -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$SIEVE_LOG_DIR" \
      -cp "$LIBS/*" $MAIN "$CONF" >>"$OUT_FILE" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" > "$PID_FILE"
    say "starting (pid $pid), log $LOG_FILE"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka: error: broker exited during start-up" >&2
      show_log_tail
      rm -f "$PID_FILE"
      exit 1
    fi
    if port_open "$HOST" "$PORT" && healthy 3; then
      say "ready on $HOST:$PORT in $(elapsed_since "$t0")s (pid $pid, data $KAFKA_DATA, log $LOG_FILE)"
      return 0
    fi
    sleep 0.3
  done
  echo "kafka: error: no metadata answer from $HOST:$PORT after ${START_TIMEOUT}s" >&2
  show_log_tail
  exit 1
}

cmd_stop() {
  local pid t0
  t0="$(date +%s%N)"
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  stop_pid "$pid" "$STOP_TIMEOUT" kafka
  rm -f "$PID_FILE"
  wait_port_closed "$HOST" "$PORT" 10 || say "warning: $HOST:$PORT still open after stop"
  say "stopped (pid $pid) in $(elapsed_since "$t0")s"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if healthy 3; then
      say "running (pid $pid) on $HOST:$PORT, data $KAFKA_DATA, log $LOG_FILE"
      return 0
    fi
    say "pid $pid alive but $HOST:$PORT does not answer metadata requests; log $LOG_FILE"
    return 1
  fi
  if port_open "$HOST" "$PORT"; then
    say "not started by this script, but something listens on $HOST:$PORT"
    return 1
  fi
  say "not running"
  return 3
}

cmd_reset() {
  cmd_stop
  rm -rf "$KAFKA_DATA"
  say "deleted $KAFKA_DATA (next start formats fresh storage)"
}

# one start/stop/install at a time (tests and the services script may race each other)
lock() {
  mkdir -p "$SIEVE_RUN_DIR"
  exec 9>"$SIEVE_RUN_DIR/kafka.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 180 9 || die "another kafka.sh is still running after 180s (lock $SIEVE_RUN_DIR/kafka.lock)"
  fi
}

case "${1:-}" in
  install|start|stop|restart|reset) lock ;;
esac

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 install|start|stop|restart|status|reset" >&2; exit 2 ;;
esac
