# shellcheck shell=bash disable=SC2034 source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR/lib
# The local control plane (scripts/cluster/{up,down,env}.sh; node.sh extends it): its state-folder
# layout, ports, components, the admin's kubectl and the certificates of its CA.
# Sourced; expects nothing. Loads script.sh ($repo, help), versions.sh (pinned versions, cached
# binaries) and process.sh (starting and stopping the components safely).

# shellcheck source=script.sh
. "$(dirname "${BASH_SOURCE[0]}")/script.sh"
# shellcheck source=versions.sh
. "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
# shellcheck source=process.sh
. "$(dirname "${BASH_SOURCE[0]}")/process.sh"

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
START_HINT=scripts/cluster/build.sh # start: what builds a missing binary

log() { printf '[cluster] %s\n' "$*" >&2; }

# bin_of COMPONENT: its cached binary (node.sh adds the node's components, then falls back to this).
cluster_bin_of() {
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
bin_of() { cluster_bin_of "$1"; }

# stop_all: every recorded component, in reverse start order.
stop_all() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${COMPONENTS[i]}"
  done
}

# lock_cluster: serialises up/down on the same state folder (a second `up` waits for the first).
# fd 9 must not leak into the components (start closes it), or the lock would live as long as they do.
lock_cluster() { lock_state "$CLUSTER_DIR" 9 "another up/down"; }

# kc ARGS...: kubectl ($KUBECTL, set by the up script) as the cluster's admin.
kc() { "$KUBECTL" --kubeconfig="$ADMIN_KUBECONFIG" "$@"; }

# --- Certificates ----------------------------------------------------------------------------------
# Both run in the folder the files go to. Every file is written under a temporary name and renamed,
# so an interrupted run never leaves a truncated key or certificate behind.

# ec_key FILE: an EC P-256 key in PKCS#8 (fast to generate, accepted by Go and by rustls), unless
# FILE exists.
ec_key() {
  [ -f "$1" ] && return 0
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null
  mv "$1.tmp" "$1"
}

# issue_cert NAME CA SUBJECT EXTENSIONS: NAME.crt for the key NAME.key (created when missing), signed
# by CA.crt/CA.key (CA: a path without the extension), with SUBJECT and the EXTENSIONS lines.
issue_cert() {
  local name=$1 ca=$2 subj=$3 ext=$4
  ec_key "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -sha256 -days 3650 -extfile "$name.ext" -out "$name.crt.tmp" 2>/dev/null
  mv "$name.crt.tmp" "$name.crt"
  rm -f "$name.csr" "$name.ext"
}
