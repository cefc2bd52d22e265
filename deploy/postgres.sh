#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for development and tests (not the system service).
#   deploy/postgres.sh up | down | status | url
#
# up      installs Debian's postgresql package when no initdb/pg_ctl can be found
#         (apt-get, non-interactive; needs root), creates the cluster on first use and
#         starts it; idempotent; returns once pg_isready answers.
# down    stops the cluster (pg_ctl stop -m fast); its data is kept for the next `up`.
# status  exit 0 (and the URL on stdout) when the cluster answers, exit 3 otherwise.
# url     prints the SQLAlchemy URL of the admin database:
#         postgresql+asyncpg://doorstep:doorstep@127.0.0.1:55432/postgres
#
# Environment:
#   POSTGRES_PORT  TCP port on 127.0.0.1 (55432)
#   DOORSTEP_VAR   state directory (var/ in the repository); the cluster lives in
#                  $DOORSTEP_VAR/postgres/<port>/ (data/, run/ for the unix socket, postgres.log)
#   POSTGRES_BIN   directory holding initdb, pg_ctl and pg_isready (found automatically:
#                  Debian keeps them in /usr/lib/postgresql/<major>/bin, off the PATH)
#
# The role `doorstep` (password `doorstep`) is the cluster's superuser, so it can CREATE
# DATABASE. Connections: unix socket trusted, 127.0.0.1 by password (scram-sha-256).
# Durability is switched off (fsync, synchronous_commit, full_page_writes): the data is
# disposable, and tests run much faster.
#
# PostgreSQL refuses to run as root. Run as root, this script runs the server as the
# `postgres` system user (created by the Debian package, or here if missing). That user
# must be able to reach the cluster directory: when it cannot (the repository lies under
# a directory it may not traverse, such as /root, or the unix socket path would be too
# long), the cluster goes to /tmp/doorstep-postgres-<port> instead. Run as anyone else,
# the server runs as that user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${DOORSTEP_VAR:-$ROOT/var}
HOST=127.0.0.1
PORT=${POSTGRES_PORT:-55432}
ROLE=doorstep
PASSWORD=doorstep
FALLBACK=/tmp/doorstep-postgres-$PORT
PRIMARY=$VAR/postgres/$PORT

say() { echo "postgres: $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $PORT =~ ^[0-9]+$ ]] || die "POSTGRES_PORT must be a number, not '$PORT'"

url() {
  echo "postgresql+asyncpg://$ROLE:$PASSWORD@$HOST:$PORT/postgres"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- the binaries ----------------------------------------------------------------

find_bindir() {
  if [[ -n ${POSTGRES_BIN:-} ]]; then
    [[ -x $POSTGRES_BIN/initdb && -x $POSTGRES_BIN/pg_ctl ]] \
      || die "POSTGRES_BIN=$POSTGRES_BIN holds no initdb and pg_ctl"
    echo "$POSTGRES_BIN"
    return 0
  fi
  local dir found
  # Debian: /usr/lib/postgresql/<major>/bin; the newest major wins.
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r || true)
  for dir in $found; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return 0
    fi
  done
  if found=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$found")"
    return 0
  fi
  return 1
}

install_postgres() {
  if [[ $(id -u) != 0 ]]; then
    die "PostgreSQL is not installed (no initdb/pg_ctl found) and installing it needs root. \
Run: sudo apt-get install postgresql   (or set POSTGRES_BIN to a directory with initdb and pg_ctl)"
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "PostgreSQL is not installed and there is no apt-get to install it with; \
install the PostgreSQL server (initdb, pg_ctl) or set POSTGRES_BIN"
  local started
  started=$(now)
  say "PostgreSQL is not installed; installing Debian's postgresql package (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed (is the Debian package mirror reachable?)"
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    postgresql >&2 || die "apt-get install postgresql failed; see the output above"
  say "installed in $(since "$started") s"
}

BIN=
binaries() {
  if ! BIN=$(find_bindir); then
    install_postgres
    BIN=$(find_bindir) || die "postgresql was installed but initdb/pg_ctl are still nowhere to be found"
  fi
}

pg_isready_bin() {
  if [[ -x $BIN/pg_isready ]]; then
    echo "$BIN/pg_isready"
  else
    command -v pg_isready 2>/dev/null || true
  fi
}

# --- who runs the server ----------------------------------------------------------

RUN_USER=$(id -un)
as_server() {
  # Runs a command as the server's user, from a directory that user can read.
  if [[ $(id -u) == 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u "$RUN_USER" -- "$@")
    else
      local quoted
      quoted=$(printf '%q ' "$@")
      (cd / && su -s /bin/sh "$RUN_USER" -c "$quoted")
    fi
  else
    (cd / && "$@")
  fi
}

server_user() {
  [[ $(id -u) == 0 ]] || return 0
  RUN_USER=postgres
  if ! id -u postgres >/dev/null 2>&1; then
    say "creating the system user 'postgres' (PostgreSQL will not run as root)"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
      --shell /usr/sbin/nologin postgres || die "could not create the system user 'postgres'"
  fi
}

# --- where the cluster lives ------------------------------------------------------

DIR=
DATA=
SOCKETS=
LOG=
usable() {
  # Whether the server's user can own and reach $1, and the socket path fits (107 bytes).
  local dir=$1
  local socket=$dir/run/.s.PGSQL.$PORT
  ((${#socket} <= 100)) || return 1
  if [[ $dir == "$PRIMARY" && ! -d $VAR/postgres ]]; then
    mkdir -p "$VAR/postgres" 2>/dev/null || return 1
    chmod 0755 "$VAR/postgres" 2>/dev/null || true
  fi
  mkdir -p "$dir" 2>/dev/null || return 1
  if [[ $(id -u) == 0 ]]; then
    chown "$RUN_USER:" "$dir" || return 1
    # A cluster made earlier by someone else (say, run without root) becomes the server's.
    if [[ -d $dir/data && $(stat -c %U "$dir/data") != "$RUN_USER" ]]; then
      chown -R "$RUN_USER:" "$dir" || return 1
    fi
  fi
  if ! as_server test -w "$dir" -a -x "$dir" 2>/dev/null; then
    rmdir "$dir" 2>/dev/null || true
    return 1
  fi
}

locate() {
  server_user
  # An existing cluster stays where it is; a new one goes to $PRIMARY if it can.
  if [[ ! -f $PRIMARY/data/PG_VERSION && -f $FALLBACK/data/PG_VERSION ]] && usable "$FALLBACK"; then
    DIR=$FALLBACK
  elif usable "$PRIMARY"; then
    DIR=$PRIMARY
  elif usable "$FALLBACK"; then
    say "user '$RUN_USER' cannot reach $PRIMARY; the cluster lives in $FALLBACK instead"
    DIR=$FALLBACK
  else
    die "user '$RUN_USER' can use neither $PRIMARY nor $FALLBACK for the cluster"
  fi
  DATA=$DIR/data
  SOCKETS=$DIR/run
  LOG=$DIR/postgres.log
}

# Without creating anything: where an existing cluster is, for status and down.
existing() {
  server_user
  local dir
  for dir in "$PRIMARY" "$FALLBACK"; do
    if [[ -f $dir/data/PG_VERSION ]]; then
      DIR=$dir
      DATA=$DIR/data
      SOCKETS=$DIR/run
      LOG=$DIR/postgres.log
      return 0
    fi
  done
  return 1
}

# --- the cluster ------------------------------------------------------------------

initialise() {
  [[ -f $DATA/PG_VERSION ]] && return 0
  say "creating the cluster in $DATA"
  if [[ $(id -u) == 0 ]]; then
    chown -R "$RUN_USER:" "$DIR"
  fi
  as_server mkdir -p "$SOCKETS"
  rm -rf "$DATA"
  local pwfile=$DIR/.pwfile
  as_server sh -c "umask 077 && printf '%s\n' '$PASSWORD' >'$pwfile'"
  if ! as_server "$BIN/initdb" -D "$DATA" -U "$ROLE" --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 20 "$DIR/initdb.log" >&2
    rm -rf "$DATA"
    die "initdb failed; see $DIR/initdb.log"
  fi
  rm -f "$pwfile"
  as_server sh -c "cat >>'$DATA/postgresql.conf'" <<EOF

# deploy/postgres.sh: a private, disposable cluster
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCKETS'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

running() {
  [[ -n $DATA && -f $DATA/PG_VERSION ]] || return 1
  as_server "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

ready() {
  local isready
  isready=$(pg_isready_bin)
  if [[ -n $isready ]]; then
    "$isready" -q -h "$HOST" -p "$PORT" -d postgres -U "$ROLE" -t 2
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

up() {
  local started
  started=$(now)
  binaries
  locate
  if running && ready; then
    say "already running on $HOST:$PORT (data: $DATA); ready after $(since "$started") s"
    return 0
  fi
  initialise
  as_server mkdir -p "$SOCKETS"
  if ! running; then
    if ! as_server "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 >/dev/null; then
      tail -n 20 "$LOG" >&2 || true
      die "the server did not start (is port $PORT taken by something else?); see $LOG"
    fi
  fi
  local tries
  for tries in $(seq 1 120); do
    ready && break
    if ((tries == 120)); then
      tail -n 20 "$LOG" >&2 || true
      die "the server started but pg_isready got no answer on $HOST:$PORT within 60 s; see $LOG"
    fi
    sleep 0.5
  done
  say "up on $HOST:$PORT in $(since "$started") s (data: $DATA; log: $LOG)"
  say "url: $(url)"
}

down() {
  binaries
  if ! existing; then
    say "not running (no cluster)"
    return 0
  fi
  if ! running; then
    say "not running (data: $DATA)"
    return 0
  fi
  local started
  started=$(now)
  as_server "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null \
    || die "pg_ctl could not stop the server; see $LOG"
  say "stopped in $(since "$started") s (data kept in $DATA)"
}

status() {
  if ! BIN=$(find_bindir); then
    say "not running (PostgreSQL is not installed)"
    return 3
  fi
  if existing && running && ready; then
    say "running on $HOST:$PORT (data: $DATA)"
    url
    return 0
  fi
  if [[ -n $DATA ]] && running; then
    say "the server runs but does not answer on $HOST:$PORT (data: $DATA); see $LOG"
    return 3
  fi
  say "not running on $HOST:$PORT"
  return 3
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  url) url ;;
  *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac
