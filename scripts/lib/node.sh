# shellcheck shell=bash disable=SC2034 source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR/lib
# The real node (scripts/node/*.sh, scripts/image/import.sh): its versions, cached binaries, state
# layout and ports, on top of the control plane's (cluster.sh), whose process helpers (is_ours,
# live_pid, stop_component, start) then know the node's components too.
# Sourced; expects nothing. Loads cluster.sh (and with it script.sh, versions.sh, process.sh).

# shellcheck source=cluster.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"

# --- Versions (kubelet: K8S_VERSION, the control plane's) ------------------------------------------
# containerd 2.x: Kubernetes 1.35 was the last release to support containerd 1.x (Debian 12 ships 1.6).
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
# The sandbox image kubelet/containerd expect; built locally from scripts/node/pause (no registry).
PAUSE_IMAGE=registry.k8s.io/pause:3.10.2
# CNI plugins (bridge, host-local, loopback) from github.com/containernetworking/plugins.
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-v1.10.0}
CNI_PLUGINS=(bridge host-local loopback)
# The OCI registry users push our image and chart to (github.com/distribution/distribution, the
# CNCF Distribution registry), for the suite that pulls both from one as users do.
REGISTRY_VERSION=${REGISTRY_VERSION:-v3.1.2}

# --- Cached binaries (version-keyed, like scripts/cluster/build.sh) --------------------------------
kubelet_bin_dir() { echo "$CACHE_ROOT/bin/kubelet-$K8S_VERSION"; }
containerd_bin_dir() { echo "$CACHE_ROOT/bin/containerd-$CONTAINERD_VERSION"; }
# The pause image is keyed by its tag and by a digest of its source, so an edit rebuilds it.
pause_dir() {
  local sum
  sum=$(cat "$repo/scripts/node/pause/go.mod" "$repo/scripts/node/pause/main.go" | sha256sum | cut -c1-12)
  echo "$CACHE_ROOT/bin/pause-${PAUSE_IMAGE##*:}-$sum"
}
pause_archive() { echo "$(pause_dir)/pause.oci.tar"; }
runc_bin() { command -v runc || echo /usr/sbin/runc; }
cni_bin_dir() { echo "$CACHE_ROOT/bin/cni-plugins-$CNI_PLUGINS_VERSION"; }
registry_bin() { echo "$CACHE_ROOT/bin/registry-$REGISTRY_VERSION/registry"; }
skopeo_bin() { command -v skopeo || echo /usr/bin/skopeo; }

# --- Node identity and ports (127.0.0.1 only) --------------------------------------------------------
NODE_NAME=${NODE_NAME:-real-node-0}
KUBELET_PORT=${KUBELET_PORT:-20250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-20248}
# Label every pod that wants the real node selects, and the taint that keeps everything else (the
# kwok suites' pods) off it.
NODE_LABEL_KEY=oidcsso.io/real-node
NODE_TAINT="$NODE_LABEL_KEY=true:NoSchedule"

# --- State: everything below $CLUSTER_DIR/node; logs and pid files next to the cluster's --------------
NODE_DIR=$CLUSTER_DIR/node
NODE_PKI=$NODE_DIR/pki
CTRD_DIR=$NODE_DIR/containerd
CTRD_SOCK=$CTRD_DIR/containerd.sock
CTRD_CONFIG=$CTRD_DIR/config.toml
KUBELET_DIR=$NODE_DIR/kubelet
KUBELET_CONFIG=$KUBELET_DIR/config.yaml
KUBELET_KUBECONFIG=$KUBELET_DIR/kubeconfig
POD_LOGS_DIR=$NODE_DIR/pod-logs
SYSCTL_SAVE=$NODE_DIR/sysctl.orig # host values the kubelet changes; down.sh restores them
NODE_COMPONENTS=(containerd kubelet)
# start: the shim is found next to containerd; PATH also serves the kubelet's helpers (mount, ...).
START_PATH=$(containerd_bin_dir)
START_HINT=scripts/node/build.sh

nlog() { printf '[node] %s\n' "$*" >&2; }
log() { nlog "$@"; } # the process helpers (stop_component, ...) log through it

# The node's processes, then the control plane's (cluster_bin_of): is_ours / live_pid /
# stop_component / start (process.sh) work for both unchanged.
bin_of() {
  case $1 in
    containerd) echo "$(containerd_bin_dir)/containerd" ;;
    kubelet) echo "$(kubelet_bin_dir)/kubelet" ;;
    *) cluster_bin_of "$1" ;;
  esac
}

# This host's architecture as OCI platforms name it.
oci_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) uname -m ;;
  esac
}

# ctr against the node's containerd, in the namespace the CRI plugin uses.
nctr() { "$(containerd_bin_dir)/ctr" --address "$CTRD_SOCK" --namespace k8s.io "$@"; }

# lock_node: serialises node up/down (fd 8; the started processes must not inherit it).
lock_node() { lock_state "$NODE_DIR" 8 "another node up/down"; }
