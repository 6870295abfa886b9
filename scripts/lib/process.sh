# shellcheck shell=bash
# The processes of the local control plane (scripts/cluster/up.sh) and of the real node
# (scripts/node/up.sh): started detached with their PID recorded in a file, and signalled only after
# is_ours has checked that the PID is still the process we started. Also the lock that serialises
# up/down on a state folder, the port check, and an up script's failure handling (fail, wait_until,
# the EXIT trap).
# Sourced by cluster.sh; expects, when its functions run: CLUSTER_DIR (every component gets a path
# below it), PID_DIR, LOG_DIR, a function bin_of COMPONENT (the component's cached binary) and a
# function log. start also reads START_HINT (the script that builds the binaries) and START_PATH
# (put first on the components' PATH when set).

pid_file() { echo "$PID_DIR/$1.pid"; }

# is_ours COMPONENT PID: true when PID is alive and is the process WE started for this cluster:
# argv[0] is the cached binary of that component and an argument mentions this cluster's folder
# (every component gets a path below $CLUSTER_DIR). A recycled PID, a zombie (empty cmdline) or
# the same binary serving another CLUSTER_DIR never matches, so it is never signalled.
is_ours() {
  local comp=$1 pid=$2 args
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [ -n "$args" ] || return 1
  [ "$(head -n1 <<<"$args")" = "$(bin_of "$comp")" ] || return 1
  grep -qF -- "$CLUSTER_DIR/" <<<"$args"
}

# live_pid COMPONENT: prints the recorded PID if that process is ours and alive; fails otherwise.
live_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null || true)
  is_ours "$1" "$pid" || return 1
  echo "$pid"
}

# stop_component COMPONENT: TERM, wait, then KILL the recorded PID, only if it is ours.
# Removes the pid file in every case (a stale file is just dropped). Logs are kept.
stop_component() {
  local comp=$1 f pid i
  f=$(pid_file "$comp")
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if ! is_ours "$comp" "$pid"; then
    log "$comp: dropping stale pid file (pid '${pid}' is gone or not ours)"
    rm -f "$f"
    return 0
  fi
  log "$comp: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  # kube-apiserver drains for a few seconds; etcd flushes. 30 s is plenty even on a busy 2-core box.
  for ((i = 0; i < ${STOP_TIMEOUT:-30} * 10; i++)); do
    is_ours "$comp" "$pid" || break
    sleep 0.1
  done
  if is_ours "$comp" "$pid"; then
    log "$comp: still alive after ${STOP_TIMEOUT:-30}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      is_ours "$comp" "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$f"
}

# lock_state DIR FD WHO: serialises up/down on the state folder DIR (a second one waits up to
# LOCK_TIMEOUT seconds, default 900, then gives up saying that WHO holds DIR/.lock). The lock is held
# on fd FD (9: the cluster's, 8: the node's) until the script exits; start closes both, so that a
# lock never lives as long as the components do.
lock_state() {
  local dir=$1 fd=$2 who=$3
  mkdir -p "$dir"
  case $fd in
    8) exec 8>"$dir/.lock" ;;
    9) exec 9>"$dir/.lock" ;;
    *)
      log "lock_state: $fd is not a lock fd (8 or 9)"
      exit 1
      ;;
  esac
  if ! flock -w "${LOCK_TIMEOUT:-900}" "$fd"; then
    log "$who holds $dir/.lock; giving up"
    exit 1
  fi
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  [ "$1" != 0 ] || return 1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ports_free_or_exit HINT PORT...: exits 1 at the first PORT something else listens on (a process of
# ours was stopped before), showing what holds it, then HINT when not empty.
ports_free_or_exit() {
  local hint=$1 p
  shift
  for p in "$@"; do
    if port_in_use "$p"; then
      log "port 127.0.0.1:$p is already in use (not by a process recorded in $PID_DIR):"
      ss -ltnpH "sport = :$p" >&2 || true
      [ -z "$hint" ] || log "$hint"
      exit 1
    fi
  done
}

# require_tools TOOL...: exits 1 naming the first TOOL that is not on PATH.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      log "missing required tool: $tool"
      exit 1
    }
  done
}

# --- An up script's failure handling ----------------------------------------------------------------
# up_guard LINES ON_FAIL ON_EXIT TEARDOWN...: installs the EXIT trap (and INT/TERM -> exit 130), so
# that from the moment the script sets cleanup_on_exit=1 (it starts components), fail and any other
# failing exit run TEARDOWN... to stop what was started: an up never leaves half a cluster or node.
# fail shows the last LINES lines of the component's log and says "stopping ON_FAIL"; the trap says
# "stopping ON_EXIT". Logs are kept.
up_guard() {
  UP_LOG_LINES=$1 UP_ON_FAIL=$2 UP_ON_EXIT=$3
  shift 3
  UP_TEARDOWN=("$@")
  cleanup_on_exit=0
  trap on_exit EXIT
  trap 'exit 130' INT TERM
}

# fail COMPONENT REASON: show why, stop what this run started, exit non-zero.
fail() {
  local comp=$1 reason=$2 logf=$LOG_DIR/$1.log
  log "FAILED: $comp: $reason"
  if [ -f "$logf" ]; then
    log "last $UP_LOG_LINES lines of $logf:"
    tail -n "$UP_LOG_LINES" "$logf" >&2 || true
  fi
  log "stopping $UP_ON_FAIL (logs stay in $LOG_DIR)"
  cleanup_on_exit=0
  "${UP_TEARDOWN[@]}"
  exit 1
}

# The EXIT trap of up_guard: any other unexpected exit (a failing command under set -e, Ctrl-C) after
# components were started must not leave them behind either.
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ "$cleanup_on_exit" = 1 ]; then
    log "up failed (exit $rc); stopping $UP_ON_EXIT (logs stay in $LOG_DIR)"
    "${UP_TEARDOWN[@]}"
  fi
}

# wait_until COMPONENT WHAT CMD...: poll CMD until it succeeds; fail early if the component died.
wait_until() {
  local comp=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + WAIT_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    live_pid "$comp" >/dev/null || fail "$comp" "process exited while waiting for: $what"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$comp" "timed out after ${WAIT_TIMEOUT}s waiting for: $what"
    sleep 0.5
  done
}

# start COMPONENT ARGS...: launch the cached binary detached from this shell (own session, stdin
# from /dev/null, the lock fds 8 and 9 closed) with output appended to logs/COMPONENT.log, and
# START_PATH (when set) first on its PATH. The child writes its own PID before exec'ing the binary,
# so the pid file holds the real process even if setsid forks.
start() {
  local comp=$1 bin logf pidf i
  shift
  bin=$(bin_of "$comp")
  logf=$LOG_DIR/$comp.log
  pidf=$(pid_file "$comp")
  [ -x "$bin" ] || fail "$comp" "binary missing: $bin (run $START_HINT)"
  # Keep old logs for post-mortems but stop them growing forever.
  if [ -f "$logf" ] && [ "$(stat -c %s "$logf")" -gt $((64 * 1024 * 1024)) ]; then
    mv -f "$logf" "$logf.1"
  fi
  printf '\n===== %s starting at %s =====\n' "$comp" "$(date -Is)" >>"$logf"
  rm -f "$pidf"
  # shellcheck disable=SC2016 # $$ / $0 / $@ are for the inner shell
  PATH="${START_PATH:+$START_PATH:}$PATH" setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$bin" "$@" \
    </dev/null >>"$logf" 2>&1 8>&- 9>&- &
  for ((i = 0; i < 100; i++)); do
    live_pid "$comp" >/dev/null && {
      log "$comp: started, pid $(cat "$pidf")"
      return 0
    }
    sleep 0.1
  done
  fail "$comp" "exited immediately (or never started)"
}
