#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for Custos's tests and benchmarks.
#
#   scripts/pg_cluster.sh start    # installs postgresql-15 if missing, starts the cluster,
#                                  # prints `export ...` lines for eval
#   scripts/pg_cluster.sh env      # prints the same export lines for a running cluster
#   scripts/pg_cluster.sh url      # prints the connection URL (no password in it)
#   scripts/pg_cluster.sh restart  # restarts the server (tests of reconnecting)
#   scripts/pg_cluster.sh stop     # stops the server and removes every file of it
#
#   eval "$(scripts/pg_cluster.sh start)"   # sets CUSTOS_TEST_PG_URL and PGPASSWORD
#
# The cluster lives in $CUSTOS_PG_STATE (default /tmp/custos-pg-cluster): data directory,
# log, socket directory and the chosen port. It listens on 127.0.0.1 only, on
# $CUSTOS_PG_PORT (default 54329, or the next free port). The test role `custos` logs in
# with SCRAM and a throw-away password, given to libpq through PGPASSWORD (never in the
# URL); the Unix socket sits in the private state directory (trust, superuser only). As
# root, the server runs as the unprivileged system user `postgres` (created by the
# Debian package). Idempotent: `start` on a running cluster only prints its settings; a stale
# postmaster.pid of a dead server is removed.
set -euo pipefail

STATE="${CUSTOS_PG_STATE:-/tmp/custos-pg-cluster}"
DATA="$STATE/data"
SOCK="$STATE/sock"
LOG="$STATE/server.log"
ROLE=custos
DB=custos_test
PASSWORD=custos-throwaway-test-password
PG_BIN=/usr/lib/postgresql/15/bin

log() { echo "pg_cluster: $*" >&2; }

install_postgres() {
  if [[ -x "$PG_BIN/initdb" ]]; then return; fi
  if [[ "$(id -u)" != 0 ]]; then
    log "postgresql-15 is not installed and this is not root; install it with apt-get"
    exit 1
  fi
  log "installing postgresql-15 from Debian"
  # No default cluster: this script makes its own.
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql-15 >&2
}

# The unprivileged system user that owns the cluster when this runs as root: `postgres`
# (made by the Debian package), or `custos-pg`, made here when there is no `postgres`.
OWNER=postgres
pick_owner() {
  [[ "$(id -u)" == 0 ]] || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    OWNER=custos-pg
    id -u "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
  fi
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "$OWNER" -- "$@"
  else
    "$@"
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

choose_port() {
  local port="${CUSTOS_PG_PORT:-54329}"
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

running() { [[ -d "$DATA" ]] && as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

port() { cat "$STATE/port"; }

url() { echo "postgresql://$ROLE@127.0.0.1:$(port)/$DB"; }

print_env() {
  echo "export CUSTOS_TEST_PG_URL='$(url)'"
  echo "export PGPASSWORD='$PASSWORD'"
  echo "export CUSTOS_TEST_PG_CLUSTER='$(cd "$(dirname "$0")" && pwd)/$(basename "$0")'"
}

init_cluster() {
  rm -rf "$STATE"
  mkdir -p "$STATE" "$SOCK"
  choose_port >"$STATE/port"
  if [[ "$(id -u)" == 0 ]]; then chown -R "$OWNER": "$STATE"; fi
  chmod 700 "$STATE"
  local pwfile
  pwfile="$STATE/superuser.pw"
  as_owner bash -c "umask 077; head -c 24 /dev/urandom | base64 > '$pwfile'"
  as_owner "$PG_BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 \
    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 \
    || { cat "$STATE/initdb.log" >&2; exit 1; }
  as_owner bash -c "cat >> '$DATA/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
port = $(port)
unix_socket_directories = '$SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
CONF
}

start_server() {
  # A server killed without cleanup leaves postmaster.pid behind; pg_ctl refuses to start
  # only when that pid is alive, but remove it explicitly when it is dead.
  if [[ -f "$DATA/postmaster.pid" ]]; then
    local pid
    pid="$(head -1 "$DATA/postmaster.pid")"
    if ! kill -0 "$pid" 2>/dev/null; then
      log "removing stale postmaster.pid ($pid)"
      rm -f "$DATA/postmaster.pid"
    fi
  fi
  if ! port_free "$(port)"; then
    log "port $(port) is taken by another process; choosing another"
    choose_port >"$STATE/port"
    as_owner bash -c "echo 'port = $(port)' >> '$DATA/postgresql.conf'"
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2 \
    || { tail -20 "$LOG" >&2; exit 1; }
}

psql_super() {
  as_owner "$PG_BIN/psql" -h "$SOCK" -p "$(port)" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -qAt "$@"
}

create_role_and_db() {
  if [[ "$(psql_super -c "SELECT count(*) FROM pg_roles WHERE rolname = '$ROLE'")" == 0 ]]; then
    psql_super -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
  fi
  if [[ "$(psql_super -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" == 0 ]]; then
    psql_super -c "CREATE DATABASE $DB OWNER $ROLE" >&2
  fi
}

cmd_start() {
  install_postgres
  if running; then
    print_env
    return
  fi
  if [[ ! -f "$DATA/PG_VERSION" || ! -f "$STATE/port" ]]; then init_cluster; fi
  start_server
  create_role_and_db
  log "PostgreSQL 15 running on 127.0.0.1:$(port) (data in $DATA)"
  print_env
}

cmd_stop() {
  if [[ -d "$DATA" ]]; then
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >&2 2>/dev/null || true
  fi
  rm -rf "$STATE"
  log "stopped and removed $STATE"
}

cmd_restart() {
  running || { log "not running"; exit 1; }
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -m fast -w -t 60 restart >&2
}

pick_owner
case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_restart ;;
  url) running || { log "not running"; exit 1; }; url ;;
  env) running || { log "not running"; exit 1; }; print_env ;;
  *) echo "usage: $0 start|stop|restart|url|env" >&2; exit 2 ;;
esac
