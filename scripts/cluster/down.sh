#!/usr/bin/env bash
# Stops the local control plane started by up.sh: only the processes whose PIDs it recorded (and
# only after checking each PID is still that process), in reverse start order, TERM then KILL.
# Keeps logs and data (a later `up` resumes the same cluster). Idempotent.
#   --purge   also delete the state folder ($CLUSTER_DIR, default <repo>/.cluster)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/cluster.sh
. "$here/../lib/cluster.sh"

purge=0
for arg in "$@"; do
  case $arg in
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,6p' "$0"
      exit 0
      ;;
    *)
      log "unknown argument: $arg"
      exit 2
      ;;
  esac
done

if [ ! -d "$CLUSTER_DIR" ]; then
  log "nothing to stop ($CLUSTER_DIR does not exist)"
  exit 0
fi
# Refuse to touch (let alone delete) a folder up.sh did not create, e.g. CLUSTER_DIR=$HOME by mistake.
if [ ! -f "$MARKER" ]; then
  log "$CLUSTER_DIR was not created by scripts/cluster/up.sh (no $(basename "$MARKER")); leaving it alone"
  exit 1
fi

# A real node (scripts/node/up.sh) runs containers with Secret mounts below the state folder: stop
# it first, so that no kubelet outlives its control plane and a purge never deletes live mounts.
if [ -d "$CLUSTER_DIR/node" ]; then
  if [ $purge = 1 ]; then "$here/../node/down.sh" --purge; else "$here/../node/down.sh"; fi
fi

lock_cluster
stop_all
log "stopped (logs kept in $LOG_DIR)"

if [ $purge = 1 ]; then
  rm -rf "$CLUSTER_DIR"
  log "purged $CLUSTER_DIR"
fi
