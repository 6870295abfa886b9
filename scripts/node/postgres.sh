#!/usr/bin/env bash
# A PostgreSQL server for the OpenMetadata stand-in (scripts/image/omserver), from Debian's
# `postgresql` package (installed with apt-get when missing and running as root). It listens on
# 127.0.0.1 only; its pg_hba.conf takes password (SCRAM) logins of the role openmetadata_user to
# the database openmetadata_db from 127.0.0.1 and from the pod network $PG_POD_CIDR (default
# 10.199.0.0/16: pods reach host-loopback services through the DNAT of expose-host-port.sh, so
# their connections arrive from pod IPs). PostgreSQL refuses to run as root: as root it runs as
# the `postgres` system user (created when missing), otherwise as the calling user.
#   scripts/node/postgres.sh start   start (idempotent: a running server is kept), create the
#                                    role and the database; prints the PID
#   scripts/node/postgres.sh stop    stop it by the PID in its pid file (idempotent)
#   scripts/node/postgres.sh env     KEY='value' lines: DB_HOST DB_PORT DB_USER DB_USER_PASSWORD
#                                    OM_DATABASE DB_SCHEME DB_DRIVER_CLASS DB_PARAMS (what
#                                    OpenMetadata's openmetadata.yaml reads), PG_PID
# Environment: PG_DIR (default $CLUSTER_DIR/postgres, CLUSTER_DIR default .cluster): data, logs,
# socket, pid file and the generated password (mode 0600, never printed but by `env`); PG_PORT
# (default 55432); PG_POD_CIDR. Every directory above PG_DIR must be searchable by the user the
# server runs as.
set -euo pipefail
# shellcheck source=../lib/script.sh
. "$(dirname "$0")/../lib/script.sh"
# shellcheck source=../lib/cache.sh
. "$repo/scripts/lib/cache.sh"

CLUSTER_DIR=$(realpath -m "${CLUSTER_DIR:-$repo/.cluster}")
PG_DIR=$(realpath -m "${PG_DIR:-$CLUSTER_DIR/postgres}")
PG_PORT=${PG_PORT:-55432}
PG_POD_CIDR=${PG_POD_CIDR:-10.199.0.0/16}
PG_ROLE=openmetadata_user
PG_DATABASE=openmetadata_db
DATA=$PG_DIR/data
RUN=$PG_DIR/run
LOG=$PG_DIR/postgres.log
PID_FILE=$PG_DIR/postgres.pid
PASSWORD_FILE=$PG_DIR/password

plog() { printf '[postgres] %s\n' "$*" >&2; }

# The server's binaries: the newest /usr/lib/postgresql/<major>/bin (Debian's layout; the
# /usr/local/bin and /usr/bin names are postgresql-common's wrappers or links into it).
pg_bin() {
  local d major best="" best_major=-1
  for d in /usr/lib/postgresql/*/bin; do
    if [ ! -x "$d/initdb" ] || [ ! -x "$d/postgres" ]; then continue; fi
    major=${d#/usr/lib/postgresql/}
    major=${major%/bin}
    [[ $major =~ ^[0-9]+$ ]] || continue
    if [ "$major" -gt "$best_major" ]; then
      best=$d best_major=$major
    fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

install_postgresql() {
  pg_bin >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    plog "PostgreSQL is not installed: install Debian's 'postgresql' package (needs root and apt-get to do it automatically)"
    return 1
  fi
  plog "installing postgresql (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
}

# as_owner COMMAND...: runs COMMAND as the user that owns the server.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

owner() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

ensure_owner_user() {
  [ "$(id -u)" = 0 ] || return 0
  id postgres >/dev/null 2>&1 && return 0
  plog "creating the postgres system user"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
}

# live_pid: the server's PID when it runs from our data folder; fails otherwise.
live_pid() {
  local pid
  [ -f "$DATA/postmaster.pid" ] || return 1
  pid=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$DATA" || return 1
  echo "$pid"
}

psql_admin() {
  as_owner "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PG_PORT" -d postgres "$@"
}

start() {
  local bin pid
  with_cache_lock postgresql-apt install_postgresql
  bin=$(pg_bin)
  ensure_owner_user
  mkdir -p "$PG_DIR"
  exec 8>"$PG_DIR/.lock"
  flock -w "${LOCK_TIMEOUT:-300}" 8 || {
    plog "another start/stop holds $PG_DIR/.lock"
    exit 1
  }
  if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PASSWORD_FILE")
  fi
  mkdir -p "$RUN"
  chown "$(owner)" "$PG_DIR" "$RUN"
  if ! as_owner test -x "$PG_DIR"; then
    plog "user $(owner) cannot reach $PG_DIR (a parent directory is not searchable): choose PG_DIR elsewhere"
    exit 1
  fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    plog "initdb $DATA"
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown "$(owner)" "$DATA"
    chmod 0700 "$DATA"
    as_owner "$bin/initdb" -D "$DATA" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    {
      echo "# scripts/node/postgres.sh: the superuser over the socket; openmetadata_user with a password"
      echo "local   all       $(owner)                      peer"
      echo "host    $PG_DATABASE  $PG_ROLE  127.0.0.1/32     scram-sha-256"
      echo "host    $PG_DATABASE  $PG_ROLE  $PG_POD_CIDR    scram-sha-256"
    } | as_owner tee "$DATA/pg_hba.conf" >/dev/null
  fi
  if pid=$(live_pid); then
    plog "already running (pid $pid) on 127.0.0.1:$PG_PORT"
  else
    rm -f "$PID_FILE"
    touch "$LOG"
    chown "$(owner)" "$LOG"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $RUN" start >/dev/null 8>&- || {
      plog "the server did not start; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      exit 1
    }
    pid=$(live_pid)
    plog "started (pid $pid) on 127.0.0.1:$PG_PORT"
  fi
  echo "$pid" >"$PID_FILE"
  # The role (its password set from the file at every start) and the database. The password
  # goes through a psql variable on standard input, never on a command line.
  psql_admin -v role="$PG_ROLE" -v pw="$(cat "$PASSWORD_FILE")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'pw')
\gexec
SQL
  psql_admin -v role="$PG_ROLE" -v db="$PG_DATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
SQL
  echo "$pid"
}

stop() {
  local pid
  [ -d "$PG_DIR" ] || return 0
  exec 8>"$PG_DIR/.lock"
  flock -w "${LOCK_TIMEOUT:-300}" 8 || {
    plog "another start/stop holds $PG_DIR/.lock"
    exit 1
  }
  if pid=$(live_pid); then
    plog "stopping pid $pid"
    # pg_ctl signals the PID recorded in postmaster.pid (the one checked above) and waits.
    as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 8>&-
  fi
  rm -f "$PID_FILE"
}

env_lines() {
  local pid=""
  [ -s "$PASSWORD_FILE" ] || {
    plog "not set up yet: scripts/node/postgres.sh start"
    exit 1
  }
  pid=$(live_pid || true)
  printf "%s='%s'\n" DB_HOST 127.0.0.1 DB_PORT "$PG_PORT" DB_USER "$PG_ROLE" \
    DB_USER_PASSWORD "$(cat "$PASSWORD_FILE")" OM_DATABASE "$PG_DATABASE" DB_SCHEME postgresql \
    DB_DRIVER_CLASS org.postgresql.Driver DB_PARAMS sslmode=disable PG_PID "$pid"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  -h | --help) print_usage ;;
  *)
    print_usage >&2
    exit 2
    ;;
esac
