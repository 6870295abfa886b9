#!/usr/bin/env bash
# Starts a real node next to the running local control plane (scripts/cluster/up.sh first): containerd
# (CRI, runc from Debian, native snapshotter) and a kubelet registered as $NODE_NAME (real-node-0), then
# imports the pause image and the OCI archives given as arguments, and waits until the node is Ready.
#   scripts/node/up.sh [ARCHIVE.oci.tar...]      e.g. target/image/oidc-sso-operator-0.1.0.oci.tar
# Pods run there with imagePullPolicy: Never (no outside registry is reachable; a registry on 127.0.0.1
# is, as tests/node/registry.rs shows) and must opt in: the node is
# tainted and labelled, so the kwok suites never land on it:
#   nodeSelector: {oidcsso.io/real-node: "true"}
#   tolerations: [{key: oidcsso.io/real-node, operator: Exists, effect: NoSchedule}]
# Pod network (scripts/lib/node-network.sh): each pod gets its own IP on the bridge $POD_BRIDGE (oidcsso0)
# from $POD_CIDR (10.199.0.0/24, the Node's podCIDR; CNI plugins bridge + host-local + loopback) and
# reaches the other pods; nothing is routed off this host. In-cluster clients use the `kubernetes`
# Service as usual (KUBERNETES_SERVICE_HOST=10.96.0.1, port 443, injected by the kubelet): a DNAT rule
# sends it to the apiserver on 127.0.0.1 (no kube-proxy). A process on the host's loopback is reached
# from pods at <gateway>:PORT once scripts/node/expose-host-port.sh PORT exposes it. hostNetwork pods
# work too. $CLUSTER_DIR/node/env lists the values (POD_CIDR, POD_GATEWAY, ...).
# Everything listens on 127.0.0.1 or on unix sockets below $CLUSTER_DIR/node; logs go to
# $CLUSTER_DIR/logs/{containerd,kubelet}.log, pid files to $CLUSTER_DIR/pids. Idempotent: a Ready node
# is left running (the archives are still imported). Stop it with scripts/node/down.sh.
# Needs root (containerd, mounts, cgroups). Environment: NODE_NAME, KUBELET_PORT (20250),
# KUBELET_HEALTHZ_PORT (20248), CONTAINERD_VERSION, WAIT_TIMEOUT (seconds per step, 240),
# NODE_LOCAL_STORAGE_ISOLATION (kubelet localStorageCapacityIsolation, default true), POD_BRIDGE,
# POD_CIDR.
#
# Host settings the kubelet changes (restored by down.sh): vm.overcommit_memory=1, kernel.panic=10,
# kernel.panic_on_oops=1 (kubelet's defaults unless protectKernelDefaults, which would refuse to start).
# Host settings the pod network adds (removed by down.sh): the bridge (with route_localnet=1 on it),
# iptables chains OIDCSSO0-{DNAT,INPUT,FORWARD} and one jump into each from PREROUTING, OUTPUT, INPUT,
# FORWARD. net.ipv4.ip_forward is left alone (pods need no forwarding: see scripts/lib/node-network.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/node.sh
. "$here/../lib/node.sh"
# shellcheck source=../lib/node-network.sh
. "$here/../lib/node-network.sh"

WAIT_TIMEOUT=${WAIT_TIMEOUT:-240}
started_at=$(date +%s.%N)
archives=()
for arg in "$@"; do
  case $arg in
    -h | --help)
      print_usage
      exit 0
      ;;
    -*)
      nlog "unknown option: $arg"
      exit 2
      ;;
    *)
      [ -f "$arg" ] || {
        nlog "no such archive: $arg"
        exit 2
      }
      archives+=("$(realpath "$arg")")
      ;;
  esac
done

[ "$(id -u)" = 0 ] || {
  nlog "must run as root (containerd, runc, mounts)"
  exit 1
}
require_tools openssl curl flock setsid python3 ip iptables

# --- The control plane must be up ---------------------------------------------------------------
[ -f "$ENV_FILE" ] || {
  nlog "no $ENV_FILE: start the control plane first (make cluster-up)"
  exit 1
}
KUBECTL=$(sed -n "s/^KUBECTL='\(.*\)'$/\1/p" "$ENV_FILE")
SERVER=$(sed -n "s/^APISERVER_URL='\(.*\)'$/\1/p" "$ENV_FILE")
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl)
kc get --raw /readyz >/dev/null 2>&1 ||
  {
    nlog "the control plane at $SERVER is not ready: start it first (make cluster-up)"
    exit 1
  }
APISERVER_PORT=${SERVER##*:}
# kubectl logs/exec reach the kubelet only through an apiserver started with the kubelet flags of
# scripts/cluster/up.sh (InternalIP first, CA, client certificate); an older running one lacks them.
if apiserver_pid=$(live_pid kube-apiserver) &&
  ! tr '\0' '\n' <"/proc/$apiserver_pid/cmdline" | grep -q -- '--kubelet-preferred-address-types=InternalIP'; then
  nlog "warning: the running kube-apiserver predates scripts/cluster/up.sh's kubelet flags: kubectl logs/exec"
  nlog "on $NODE_NAME will fail until the control plane restarts (make cluster-down cluster-up)"
fi

# --- Binaries (cached; built on a fresh machine) ---------------------------------------------------
"$here/build.sh" >/dev/null
RUNC=$(runc_bin)

lock_node
mkdir -p "$NODE_DIR" "$LOG_DIR" "$PID_DIR"

# --- Helpers ------------------------------------------------------------------------------------------
# fail (lib/process.sh) and any other failing exit after cleanup_on_exit=1 stop the node (down.sh,
# under the lock this script holds); logs are kept. start/wait_until are lib/process.sh's too.
node_teardown() { "$here/down.sh" --no-lock >&2 || true; }
up_guard 30 "the node" "the node" node_teardown

node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
kubelet_healthy() { curl -fsS --max-time 5 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" | grep -qx ok; }
containerd_healthy() { nctr version >/dev/null 2>&1; }

import_archives() {
  "$repo/scripts/image/import.sh" "$(pause_archive)" "${archives[@]}" >&2
}

write_env() {
  local tmp
  tmp=$(mktemp "$NODE_DIR/env.XXXXXX")
  {
    echo "# Written by scripts/node/up.sh; describes the running real node."
    echo "NODE_NAME='$NODE_NAME'"
    echo "NODE_SELECTOR='$NODE_LABEL_KEY=true'"
    echo "NODE_TAINT='$NODE_TAINT'"
    echo "CONTAINERD_ADDRESS='$CTRD_SOCK'"
    echo "CTR='$(containerd_bin_dir)/ctr'"
    echo "IMAGE_IMPORT='$repo/scripts/image/import.sh'"
    # The apiserver from the host's network (hostNetwork pods may use these instead of the Service).
    echo "KUBERNETES_SERVICE_HOST='127.0.0.1'"
    echo "KUBERNETES_SERVICE_PORT='$APISERVER_PORT'"
    # The pod network: pods get an IP in POD_CIDR; POD_GATEWAY (the bridge's address) is where they
    # reach host ports exposed with EXPOSE_HOST_PORT PORT (then http://POD_GATEWAY:PORT).
    echo "POD_BRIDGE='$POD_BRIDGE'"
    echo "POD_CIDR='$POD_CIDR'"
    echo "POD_GATEWAY='$POD_GATEWAY'"
    echo "KUBERNETES_SERVICE_IP='$KUBERNETES_SERVICE_IP'"
    echo "EXPOSE_HOST_PORT='$repo/scripts/node/expose-host-port.sh'"
  } >"$tmp"
  mv -f "$tmp" "$NODE_DIR/env"
}

# --- 1. Already running? ----------------------------------------------------------------------------
if live_pid containerd >/dev/null && live_pid kubelet >/dev/null && containerd_healthy && kubelet_healthy && node_ready &&
  net_load_state && net_bridge_is_ours && [ "$NET_APISERVER_PORT" = "$APISERVER_PORT" ]; then
  import_archives
  write_env
  nlog "already running and Ready ($NODE_NAME); nothing else to do"
  exit 0
fi
for c in kubelet containerd; do stop_component "$c"; done

ports_free_or_exit "" "$KUBELET_PORT" "$KUBELET_HEALTHZ_PORT"
if [ ${#CTRD_SOCK} -gt 100 ]; then
  nlog "socket path too long for a unix socket (${#CTRD_SOCK} > 100): $CTRD_SOCK; use a shorter CLUSTER_DIR"
  exit 1
fi
cleanup_on_exit=1

# --- 2. Certificates: the kubelet's client (system:node:<name>) and serving certificates, signed by
# the cluster CA (the apiserver checks the serving one: --kubelet-certificate-authority). --------------
gen_node_pki() {
  mkdir -p "$NODE_PKI"
  chmod 700 "$NODE_PKI"
  (
    cd "$NODE_PKI"
    umask 077
    # sign NAME SUBJECT EXTENSIONS: (re)issued when missing or not signed by the current cluster CA.
    # (issue_cert: lib/cluster.sh, as the control plane's certificates.)
    sign() {
      if [ -f "$1.crt" ] && openssl verify -CAfile "$PKI_DIR/ca.crt" "$1.crt" >/dev/null 2>&1; then
        return 0
      fi
      issue_cert "$1" "$PKI_DIR/ca" "$2" "$3"
    }
    sign kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
    sign kubelet-server "/CN=$NODE_NAME" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost"
  )
}
gen_node_pki

mkdir -p "$KUBELET_DIR" "$CTRD_DIR" "$POD_LOGS_DIR"
tmp=$(mktemp "$KUBELET_KUBECONFIG.XXXXXX")
cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: oidc-sso-local
  cluster:
    server: $SERVER
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $NODE_NAME
  user:
    client-certificate: $NODE_PKI/kubelet-client.crt
    client-key: $NODE_PKI/kubelet-client.key
contexts:
- name: node
  context: {cluster: oidc-sso-local, user: $NODE_NAME}
current-context: node
EOF
chmod 600 "$tmp"
mv -f "$tmp" "$KUBELET_KUBECONFIG"

# The apiserver authorizes with RBAC only (no Node authorizer): give the node's user the kubelet's
# permissions (the built-in system:node ClusterRole).
kc apply -f - >/dev/null <<EOF || fail kube-apiserver "could not bind ClusterRole system:node"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: oidc-sso-local:node:$NODE_NAME
  labels: {app.kubernetes.io/managed-by: oidc-sso-operator-scripts}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:node:$NODE_NAME"}
EOF

# --- 3. Pod network (scripts/lib/node-network.sh): bridge, rules, CNI config --------------------------
net_up "$APISERVER_PORT" || fail containerd "could not set up the pod network"
nlog "pod network: bridge $POD_BRIDGE, $POD_CIDR (gateway $POD_GATEWAY), $KUBERNETES_SERVICE_IP:443 -> 127.0.0.1:$APISERVER_PORT"

# --- 4. containerd ------------------------------------------------------------------------------------
cat >"$CTRD_CONFIG" <<EOF
# Written by scripts/node/up.sh. containerd $CONTAINERD_VERSION for the local real node.
version = 3
root = '$CTRD_DIR/root'
state = '$CTRD_DIR/state'
temp = '$CTRD_DIR/tmp'
imports = ['$CTRD_DIR/conf.d/*.toml'] # never the host's /etc/containerd/conf.d
disabled_plugins = [
  'io.containerd.nri.v1.nri',
  'io.containerd.snapshotter.v1.blockfile',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.erofs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
]

[grpc]
  address = '$CTRD_SOCK'
  tcp_address = ''

[ttrpc]
  address = '$CTRD_SOCK.ttrpc'

[debug]
  address = ''
  level = 'info'

[metrics]
  address = ''

[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = '$CTRD_DIR/opt'

  # Images pulled from a registry are unpacked by the transfer service, for the snapshotters its
  # unpack_config names; its default names overlayfs, which this host does not load, and a pull
  # then fails with "no unpack platforms defined". Imported archives never go through it.
  [plugins.'io.containerd.transfer.v1.local']
    [[plugins.'io.containerd.transfer.v1.local'.unpack_config]]
      platform = 'linux/$(oci_arch)'
      snapshotter = 'native'

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
    enable_tls_streaming = false

  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'native'
    disable_snapshot_annotations = true
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$PAUSE_IMAGE'

  [plugins.'io.containerd.cri.v1.runtime']
    cdi_spec_dirs = []
    enable_selinux = false
    # This host lacks CAP_SYS_RESOURCE: without it, runc fails to set a container's oom_score_adj
    # below containerd's ("can't get final child's PID from pipe").
    restrict_oom_score_adj = true
    # Pods' network namespaces are bind-mounted below our state, not in the host's /var/run/netns.
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        runtime_path = '$(containerd_bin_dir)/containerd-shim-runc-v2'
        snapshotter = 'native'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '$RUNC'
          Root = '$CTRD_DIR/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['$(cni_bin_dir)']
      conf_dir = '$CNI_CONF_DIR'
      max_conf_num = 1
EOF
start containerd --config "$CTRD_CONFIG" --log-level info
wait_until containerd "containerd answers on $CTRD_SOCK" containerd_healthy

# --- 5. Images: the sandbox image and the archives given ------------------------------------------------
import_archives || fail containerd "image import failed"

# --- 6. kubelet ------------------------------------------------------------------------------------------
# Remember the host values the kubelet is about to change (once: a restart must not record its own).
if [ ! -f "$SYSCTL_SAVE" ]; then
  for k in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
    echo "$k=$(cat "/proc/sys/${k//.//}")"
  done >"$SYSCTL_SAVE"
fi
cat >"$KUBELET_CONFIG" <<EOF
# Written by scripts/node/up.sh. kubelet $K8S_VERSION on this cgroup v1 host, next to kwok's fake nodes.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Serving: 127.0.0.1 only, certificate signed by the cluster CA; callers authenticate with a client
# certificate of the cluster CA or a token, and are authorized by the apiserver (webhooks).
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $NODE_PKI/kubelet-server.crt
tlsPrivateKeyFile: $NODE_PKI/kubelet-server.key
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true, cacheTTL: 30s}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization:
  mode: Webhook
  webhook: {cacheAuthorizedTTL: 30s, cacheUnauthorizedTTL: 10s}
containerRuntimeEndpoint: unix://$CTRD_SOCK
# This host: cgroup v1 (KEP-5573: refused unless failCgroupV1 is false), no systemd as cgroup manager,
# no QoS cgroup hierarchy nor allocatable enforcement (the hybrid layout and missing controllers).
# Local-storage accounting stays on: with it off, cAdvisor collects no filesystem usage and the
# eviction manager fails every 10 s ("cannot find filesystem info for device /dev/vda").
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
localStorageCapacityIsolation: ${NODE_LOCAL_STORAGE_ISOLATION:-true}
# Imported images cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
# KEP-2535 (ensure secret-pulled images): once the kubelet has pulled an image with a pod's pull Secret
# (the registry suite pulls our operator image so), a pod without that Secret may use the same image
# (same image id) only after pulling it again, which for an imported one (imagePullPolicy: Never) means
# never: the chart suite would fail after the registry suite on a node kept running. Our imported images
# are allowlisted, as pods name them (the kubelet matches the name as written, without tag);
# every other image keeps the verification.
imagePullCredentialsVerificationPolicy: NeverVerifyAllowlistedImages
preloadedImagesVerificationAllowlist:
- oidc-sso-operator
- oidc-sso-testapp
- oidc-sso-om-standin
- docker.io/library/oidc-sso-operator
- docker.io/library/oidc-sso-testapp
- docker.io/library/oidc-sso-om-standin
podLogsDir: $POD_LOGS_DIR
registerNode: true
registerWithTaints:
- {key: $NODE_LABEL_KEY, value: "true", effect: NoSchedule}
# No cluster DNS: pods with dnsPolicy ClusterFirst fall back to Default (the host's resolv.conf; a
# MissingClusterDNS event, the pod starts). Tests use IPs and KUBERNETES_SERVICE_HOST/PORT.
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# The pod network's rules are scripts/lib/node-network.sh's (removed by down.sh); the kubelet adds none.
makeIPTablesUtilChains: false
maxPods: 110
serializeImagePulls: false
kubeAPIQPS: 50
kubeAPIBurst: 100
EOF
# --cloud-provider=external: the kubelet refuses a loopback --node-ip ("nodeIP can't be loopback
# address") and node names do not resolve here, so the address is set below (InternalIP 127.0.0.1,
# which the apiserver prefers: --kubelet-preferred-address-types) and the kubelet keeps it, as it keeps
# a cloud provider's. The provider's "uninitialized" taint is removed in the same step.
start kubelet \
  --config="$KUBELET_CONFIG" \
  --kubeconfig="$KUBELET_KUBECONFIG" \
  --root-dir="$KUBELET_DIR/root" \
  --cert-dir="$KUBELET_DIR/pki" \
  --hostname-override="$NODE_NAME" \
  --node-labels="$NODE_LABEL_KEY=true" \
  --cloud-provider=external \
  --v=1
wait_until kubelet "kubelet /healthz" kubelet_healthy
wait_until kubelet "Node $NODE_NAME registered" kc get node "$NODE_NAME"

# The node's address and the end of the (absent) cloud provider's initialization.
kc patch node "$NODE_NAME" --subresource=status --type=merge \
  -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"$NODE_NAME\"}]}}" \
  >/dev/null || fail kubelet "could not set the node's address"
kc taint node "$NODE_NAME" node.cloudprovider.kubernetes.io/uninitialized:NoSchedule- >/dev/null 2>&1 || true
# A node registered earlier keeps its old taints and labels: make sure ours are there.
kc label node "$NODE_NAME" --overwrite "$NODE_LABEL_KEY=true" >/dev/null
kc taint node "$NODE_NAME" --overwrite "$NODE_TAINT" >/dev/null
# The pod range is the Node's podCIDR (set once; net_up checked that an existing one matches).
if [ -z "$(kc get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}')" ]; then
  kc patch node "$NODE_NAME" --type=merge -p "{\"spec\":{\"podCIDR\":\"$POD_CIDR\",\"podCIDRs\":[\"$POD_CIDR\"]}}" >/dev/null ||
    fail kubelet "could not set the node's podCIDR"
fi

wait_until kubelet "Node $NODE_NAME Ready" node_ready
write_env
cleanup_on_exit=0

nlog "up: $NODE_NAME Ready (kubelet $K8S_VERSION, containerd $CONTAINERD_VERSION, runc $("$RUNC" --version | awk 'NR==1{print $3}')) in $(elapsed "$started_at")s"
nlog "pods opt in: nodeSelector {$NODE_LABEL_KEY: \"true\"}, toleration $NODE_TAINT, imagePullPolicy: Never"
nlog "pod network $POD_CIDR on $POD_BRIDGE; host ports for pods: scripts/node/expose-host-port.sh PORT, then $POD_GATEWAY:PORT"
