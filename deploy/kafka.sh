#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft) from Maven Central's jars, no Docker.
#   deploy/kafka.sh up | down | status | fetch
# Environment: KAFKA_HOST (127.0.0.1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# DOORSTEP_VAR (var/ in the repository), PYTHON (python3 with aiokafka, for the readiness wait),
# KAFKA_CLUSTER_ID (random by default; used when the storage is first formatted).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/deploy/kafka
VAR=${DOORSTEP_VAR:-$ROOT/var}
HOST=${KAFKA_HOST:-127.0.0.1}
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
PYTHON=${PYTHON:-python3}
KDIR=$VAR/kafka-$PORT
LIBS=$VAR/kafka-libs
PIDFILE=$KDIR/broker.pid
LOG=$KDIR/broker.log

say() { echo "kafka: $*" >&2; }
die() { say "$*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. $2"
}

fetch() {
  local stamp=$LIBS/.pom.sha256 want
  want=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  need mvn "Install Maven (Debian: apt-get install maven) so the broker's jars can be fetched."
  say "fetching the broker's jars from Maven Central (once; cached after)"
  rm -rf "$LIBS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2 \
    || die "Maven could not fetch the broker's jars (is Maven Central reachable?)"
  echo "$want" >"$stamp"
}

running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

JAVA_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$HERE/log4j2.xml" -cp "$LIBS/*")

java_run() {
  java "${JAVA_OPTS[@]}" "$@"
}

configure() {
  mkdir -p "$KDIR/data"
  sed -e "s|@HOST@|$HOST|g" -e "s|@PORT@|$PORT|g" \
      -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KDIR/data|g" \
      "$HERE/server.properties.in" >"$KDIR/server.properties"
  if [[ ! -f $KDIR/data/meta.properties ]]; then
    local cluster  # a Kafka cluster id: 16 random bytes, URL-safe base64 without padding
    cluster=${KAFKA_CLUSTER_ID:-$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')}
    # "=" joins the id to its option: an id may begin with "-" (1 in 64), which the tool
    # would otherwise take for an option and refuse.
    java_run kafka.tools.StorageTool format --standalone --cluster-id="$cluster" \
      -c "$KDIR/server.properties" >>"$LOG" 2>&1 || die "formatting storage failed; see $LOG"
  fi
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

up() {
  if pid=$(running_pid); then
    say "already running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  need java "Install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)."
  local major
  major=$(java_major)
  [[ ${major:-0} -ge 17 ]] || die "Kafka 4 needs Java 17 or newer; this java is ${major:-unknown}."
  fetch
  configure
  local started=$SECONDS
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$KDIR/server.properties" >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  if ! "$PYTHON" "$ROOT/deploy/kafka_ready.py" "$HOST:$PORT" 90; then
    tail -n 30 "$LOG" >&2
    down
    die "the broker did not answer a metadata request within 90 s; see $LOG"
  fi
  say "up on $HOST:$PORT in $((SECONDS - started)) s (pid $(cat "$PIDFILE")); log: $LOG"
}

down() {
  local pid
  if ! pid=$(running_pid); then
    say "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 30 s; killing"
    kill -KILL "$pid"
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

status() {
  if pid=$(running_pid) && "$PYTHON" "$ROOT/deploy/kafka_ready.py" "$HOST:$PORT" 5; then
    say "running (pid $pid) on $HOST:$PORT"
  else
    say "not running on $HOST:$PORT"
    return 1
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  fetch) fetch ;;
  *) echo "usage: $0 up|down|status|fetch" >&2; exit 2 ;;
esac
