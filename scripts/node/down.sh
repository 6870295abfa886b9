#!/usr/bin/env bash
# Stops the real node started by scripts/node/up.sh, by recorded PIDs only (each checked to still be
# the process we started): the kubelet, then every container on the node (through containerd, then
# runc for any left over), containerd, any shim left behind (from its own pid file), and unmounts what
# the kubelet and containerd mounted below $CLUSTER_DIR/node (pods' network namespaces among them).
# Removes the pod network (scripts/lib/node-network.sh: the bridge and any veth left on it, our iptables
# chains and their jumps, host-local's leases, libcni's cached results of our network) and restores
# the host sysctls the kubelet changed. Pods stay in the API (a later up.sh runs them again).
# Idempotent.
#   --purge   also delete the Node object, its ClusterRoleBinding and $CLUSTER_DIR/node
# Run it before scripts/cluster/down.sh (make cluster-down) stops the control plane.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/node.sh
. "$here/../lib/node.sh"
# shellcheck source=../lib/node-network.sh
. "$here/../lib/node-network.sh"

purge=0 locked=0
for arg in "$@"; do
  case $arg in
    --purge) purge=1 ;;
    --no-lock) locked=1 ;; # called by up.sh, which holds the lock
    -h | --help)
      print_usage
      exit 0
      ;;
    *)
      nlog "unknown argument: $arg"
      exit 2
      ;;
  esac
done

if [ ! -d "$NODE_DIR" ]; then
  nlog "nothing to stop ($NODE_DIR does not exist)"
  exit 0
fi
[ "$(id -u)" = 0 ] || {
  nlog "must run as root"
  exit 1
}
[ $locked = 1 ] || lock_node

shim_bin=$(containerd_bin_dir)/containerd-shim-runc-v2

# 1. The kubelet first, so that it does not restart what is stopped below.
stop_component kubelet

# 2. Every container, through containerd while it runs (tasks killed and deleted, then containers and
# their snapshots removed; the shims exit with their last task).
if live_pid containerd >/dev/null && nctr version >/dev/null 2>&1; then
  mapfile -t tasks < <(nctr tasks ls -q 2>/dev/null || true)
  if [ ${#tasks[@]} -gt 0 ]; then
    nlog "stopping ${#tasks[@]} container(s)"
    for t in "${tasks[@]}"; do nctr tasks kill --all --signal SIGKILL "$t" >/dev/null 2>&1 || true; done
    for t in "${tasks[@]}"; do nctr tasks delete --force "$t" >/dev/null 2>&1 || true; done
  fi
  mapfile -t ctrs < <(nctr containers ls -q 2>/dev/null || true)
  for c in "${ctrs[@]}"; do nctr containers delete "$c" >/dev/null 2>&1 || true; done
fi

# 3. Whatever runc still knows about below our state (containerd gone, or a delete that failed).
runc_root=$CTRD_DIR/runc
if [ -d "$runc_root" ]; then
  for ns_root in "$runc_root"/*/; do
    [ -d "$ns_root" ] || continue
    while read -r id; do
      [ -n "$id" ] || continue
      nlog "runc: deleting leftover container $id"
      "$(runc_bin)" --root "$ns_root" delete --force "$id" >/dev/null 2>&1 || true
    done < <("$(runc_bin)" --root "$ns_root" list -q 2>/dev/null || true)
  done
fi

# 4. containerd.
stop_component containerd

# 5. Shims left behind: each records its PID in the task's state folder; it is signalled only if it is
# still our shim binary serving our containerd's socket.
shim_is_ours() {
  local args
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [ "$(head -n1 <<<"$args")" = "$shim_bin" ] && grep -qxF -- "$CTRD_SOCK" <<<"$args"
}
for f in "$CTRD_DIR"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || continue
  shim_is_ours "$pid" || continue
  nlog "stopping leftover shim pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    shim_is_ours "$pid" || break
    sleep 0.1
  done
  if shim_is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
done

# 6. Mounts below the node's folder (Secret/ConfigMap tmpfs volumes, sandbox shm, rootfs binds), the
# deepest first.
unmount_all() {
  local m n=0
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    n=$((n + 1))
  done < <(findmnt -rn -o TARGET | awk -v p="$NODE_DIR/" 'index($0, p) == 1' | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-)
  [ $n = 0 ] || nlog "unmounted $n mount(s) below $NODE_DIR"
}
unmount_all

# 7. The pod network, as up.sh recorded it (the pods' namespaces, and with them their veths, are gone).
net_rc=0
net_down || net_rc=$?

# 8. Host settings, files and (empty) cgroups the node left: containers without a cgroup parent get
# one below /k8s.io (containerd's namespace) in every hierarchy; rmdir only removes empty ones.
for cg in /sys/fs/cgroup/*/k8s.io; do
  if [ -d "$cg" ]; then rmdir "$cg" 2>/dev/null || true; fi
done
if [ -f "$SYSCTL_SAVE" ]; then
  while IFS='=' read -r k v; do
    if [ -n "$k" ]; then echo "$v" >"/proc/sys/${k//.//}" 2>/dev/null || true; fi
  done <"$SYSCTL_SAVE"
  rm -f "$SYSCTL_SAVE"
  nlog "restored the host sysctls the kubelet changed"
fi
if [ -d /var/log/containers ]; then
  find /var/log/containers -maxdepth 1 -type l -lname "$POD_LOGS_DIR/*" -delete 2>/dev/null || true
fi
# Paths the kubelet and the shims hard-code: the device-plugin socket (removed when no process listens
# on it any more), then their folders when empty (never anything another kubelet or containerd uses).
dp_sock=/var/lib/kubelet/device-plugins/kubelet.sock
if [ -S "$dp_sock" ] && ! ss -xlH 2>/dev/null | grep -qF " $dp_sock "; then rm -f "$dp_sock"; fi
rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /run/containerd/s /run/containerd 2>/dev/null || true

nlog "stopped (logs kept in $LOG_DIR)"
[ $net_rc = 0 ] || exit 1

if [ $purge = 1 ]; then
  if [ -f "$ADMIN_KUBECONFIG" ] && command -v kubectl >/dev/null; then
    kubectl --kubeconfig="$ADMIN_KUBECONFIG" --request-timeout=10s delete node "$NODE_NAME" --ignore-not-found >/dev/null 2>&1 || true
    kubectl --kubeconfig="$ADMIN_KUBECONFIG" --request-timeout=10s delete clusterrolebinding \
      "oidc-sso-local:node:$NODE_NAME" --ignore-not-found >/dev/null 2>&1 || true
  fi
  if findmnt -rn -o TARGET | grep -qF "$NODE_DIR/"; then
    nlog "mounts remain below $NODE_DIR; not deleting it"
    exit 1
  fi
  rm -rf "$NODE_DIR"
  nlog "purged $NODE_DIR (Node $NODE_NAME deleted)"
fi
