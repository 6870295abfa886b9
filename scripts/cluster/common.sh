# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared by up.sh, down.sh and env.sh: state-folder layout, ports, and safe process handling.
# Sourced after versions.env and lib.sh; expects $repo (the repository root) to be set.

# --- State folder --------------------------------------------------------------------------------
# Everything a running cluster owns lives below ONE folder (certs, etcd data, configs, logs, pids).
# Resolved to an absolute, canonical path: it is matched against /proc/<pid>/cmdline to recognise
# our own processes, so it must be spelled the same way every time.
CLUSTER_DIR=$(realpath -m "${CLUSTER_DIR:-$repo/.cluster}")
PKI_DIR=$CLUSTER_DIR/pki
CONF_DIR=$CLUSTER_DIR/config
LOG_DIR=$CLUSTER_DIR/logs
PID_DIR=$CLUSTER_DIR/pids
RUN_DIR=$CLUSTER_DIR/run
KUBECONFIG_PATH=$CLUSTER_DIR/kubeconfig        # user-facing admin kubeconfig
ADMIN_KUBECONFIG=$CONF_DIR/admin.kubeconfig    # private copy for the components (users may edit theirs)
ENV_FILE=$CLUSTER_DIR/env                      # KEY='value' lines read by tests/common/mod.rs
MARKER=$CLUSTER_DIR/.oidc-sso-operator-cluster # proves the folder is ours before --purge deletes it

# --- Ports (all on 127.0.0.1) --------------------------------------------------------------------
ETCD_PORT=${ETCD_PORT:-23790}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-23800}
APISERVER_PORT=${APISERVER_PORT:-26443}
KCM_PORT=${KCM_PORT:-20257}             # 0 = no HTTPS endpoint (then only the PID is checked)
SCHEDULER_PORT=${SCHEDULER_PORT:-20259} # 0 = no HTTPS endpoint
KWOK_PORT=${KWOK_PORT:-20247}

# Start order; down.sh walks it backwards.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster] %s\n' "$*" >&2; }

bin_of() {
  case $1 in
    etcd) echo "$(etcd_bin_dir)/etcd" ;;
    kube-apiserver | kube-controller-manager | kube-scheduler) echo "$(k8s_bin_dir)/$1" ;;
    kwok) echo "$(kwok_bin_dir)/kwok" ;;
    *)
      echo "unknown component $1" >&2
      return 1
      ;;
  esac
}

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

# stop_all: every recorded component, in reverse start order.
stop_all() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${COMPONENTS[i]}"
  done
}

# lock_cluster: serialises up/down on the same state folder (a second `up` waits for the first).
# fd 9 must not leak into the components (see up.sh), or the lock would live as long as they do.
lock_cluster() {
  mkdir -p "$CLUSTER_DIR"
  exec 9>"$CLUSTER_DIR/.lock"
  if ! flock -w "${LOCK_TIMEOUT:-900}" 9; then
    log "another up/down holds $CLUSTER_DIR/.lock; giving up"
    exit 1
  fi
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  [ "$1" != 0 ] || return 1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
