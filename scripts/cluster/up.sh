#!/usr/bin/env bash
# Starts the local test control plane: etcd -> kube-apiserver -> kube-controller-manager,
# kube-scheduler, kwok (fake nodes whose pods turn Running/Ready) -> fake Node(s).
# Everything listens on 127.0.0.1; all state lives in $CLUSTER_DIR (default <repo>/.cluster):
#   kubeconfig          admin kubeconfig (client certificate in system:masters)
#   env                 KEY='value' lines (KUBECONFIG, HELM, KUBECTL, ...) for tests and scripts
#   logs/<component>.log, logs/audit.log     pids/<component>.pid
#   pki/ config/ etcd/ run/                  certificates, component configs, etcd data, scratch
# Idempotent: a healthy running cluster is reported and left alone (exit 0); leftovers of a crashed
# run (stale pid files, half-started components) are stopped/cleaned before starting again.
# Data (etcd, certificates) survives `down`; `down --purge` removes the folder.
#
# Environment overrides: CLUSTER_DIR, ETCD_PORT, ETCD_PEER_PORT, APISERVER_PORT, KCM_PORT,
# SCHEDULER_PORT, KWOK_PORT, CLUSTER_NODES (fake nodes, default 1), CLUSTER_NODE_MAX_PODS (2000),
# CLUSTER_AUDIT (1 = write logs/audit.log for API writes and gets), WAIT_TIMEOUT (seconds per step, 240),
# HEALTH_GRACE (seconds a running cluster may take to answer before it is restarted, 30).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/cluster.sh
. "$here/../lib/cluster.sh"

WAIT_TIMEOUT=${WAIT_TIMEOUT:-240}
CLUSTER_NODES=${CLUSTER_NODES:-1}
CLUSTER_NODE_MAX_PODS=${CLUSTER_NODE_MAX_PODS:-2000}
CLUSTER_AUDIT=${CLUSTER_AUDIT:-1}
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
HELM=$(helm_bin_dir)/helm
SERVER=https://127.0.0.1:$APISERVER_PORT
started_at=$(date +%s.%N)

require_tools openssl curl flock setsid python3
[ -n "$KUBECTL" ] || {
  log "kubectl not found on PATH (set KUBECTL=...)"
  exit 1
}

# --- Helpers -------------------------------------------------------------------------------------

# curl against the apiserver as the admin user (client certificate), verifying the serving cert.
api_curl() {
  curl -fsS --max-time 10 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "$SERVER$1"
}

# fail (lib/process.sh) and any other failing exit after components were started stop what this run
# started (not a half-started cluster left behind); logs are kept.
up_guard 40 "the partially started cluster" "what was started" stop_all

component_healthy() {
  case $1 in
    etcd) curl -fsS --max-time 5 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"' ;;
    kube-apiserver) [ "$(api_curl /readyz)" = ok ] ;;
    kube-controller-manager) [ "$KCM_PORT" = 0 ] || curl -fsSk --max-time 5 "https://127.0.0.1:$KCM_PORT/healthz" | grep -qx ok ;;
    kube-scheduler) [ "$SCHEDULER_PORT" = 0 ] || curl -fsSk --max-time 5 "https://127.0.0.1:$SCHEDULER_PORT/healthz" | grep -qx ok ;;
    kwok) curl -fsS --max-time 5 "http://127.0.0.1:$KWOK_PORT/healthz" | grep -qx ok ;;
  esac
}

default_sa_exists() { kc get serviceaccount default -n default -o name; }

# --- Certificates (generated once per state folder; reused across down/up so tokens stay valid) ----

gen_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  (
    cd "$PKI_DIR"
    umask 077
    # Keys and certificates are written under temporary names and renamed (ec_key, issue_cert:
    # lib/cluster.sh); whatever is missing is (re)generated on the next up.
    # ca NAME CN LEAVES...: self-signed CA; when it has to be (re)created, its leaves are dropped
    # so they get re-signed by the new CA.
    ca() {
      local name=$1 cn=$2
      shift 2
      [ -f "$name.crt" ] && return 0
      log "generating $name in $PKI_DIR"
      ec_key "$name.key"
      openssl req -x509 -new -key "$name.key" -sha256 -days 3650 -subj "/CN=$cn" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
        -out "$name.crt.tmp"
      mv "$name.crt.tmp" "$name.crt"
      local leaf
      for leaf in "$@"; do rm -f "$leaf.crt"; done
    }
    # sign NAME CA SUBJECT EXTENSIONS: leaf certificate signed by CA, unless there is one.
    sign() {
      [ -f "$1.crt" ] && return 0
      issue_cert "$@"
    }
    ca ca oidc-sso-operator-local-ca apiserver admin
    # rustls verifies IP SANs, so 127.0.0.1 must be in the serving certificate (not just the CN).
    sign apiserver ca "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    # O=system:masters: cluster-admin for tests, helm, kubectl and the control-plane components.
    sign admin ca "/O=system:masters/CN=kubernetes-admin" "extendedKeyUsage=clientAuth"
    # Front-proxy (request-header) CA: kube-controller-manager and kube-scheduler authenticate
    # delegated requests with it and log an error every 10 s when the apiserver publishes none.
    # It also makes aggregated API servers possible.
    ca front-proxy-ca oidc-sso-operator-front-proxy-ca front-proxy-client
    sign front-proxy-client front-proxy-ca "/CN=front-proxy-client" "extendedKeyUsage=clientAuth"
    # ServiceAccount token signing key (RSA: what every SA-token consumer expects).
    if [ ! -f sa.pub ]; then
      openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key.tmp 2>/dev/null
      openssl pkey -in sa.key.tmp -pubout -out sa.pub.tmp
      mv sa.key.tmp sa.key
      mv sa.pub.tmp sa.pub
    fi
  )
}

write_kubeconfig() {
  local out=$1 tmp
  tmp=$(mktemp "$out.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: oidc-sso-local
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/admin.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/admin.key")
contexts:
- name: oidc-sso-local
  context:
    cluster: oidc-sso-local
    user: admin
    namespace: default
current-context: oidc-sso-local
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$out"
}

write_env_file() {
  local tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  # One KEY='value' per line: sourceable by sh, and parsed by tests/common/mod.rs.
  {
    echo "# Written by scripts/cluster/up.sh; describes the running local cluster."
    echo "CLUSTER_DIR='$CLUSTER_DIR'"
    echo "KUBECONFIG='$KUBECONFIG_PATH'"
    echo "KUBECTL='$KUBECTL'"
    echo "HELM='$HELM'"
    echo "K8S_VERSION='$K8S_VERSION'"
    echo "APISERVER_URL='$SERVER'"
    echo "CA_CERT='$PKI_DIR/ca.crt'"
    echo "AUDIT_LOG='$([ "$CLUSTER_AUDIT" = 1 ] && echo "$LOG_DIR/audit.log")'"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

write_configs() {
  # Audit writes and single-object reads at Metadata level (no bodies): each line carries user,
  # userAgent, verb and resource, which is what the benchmarks count (a tool's requests per
  # resource, by verb). Lists and watches (informers) and Leases (every component renews one
  # every few seconds) are left out: they would only cost CPU and disk.
  cat >"$CONF_DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  verbs: ["list", "watch"]
- level: None
  resources: [{group: coordination.k8s.io, resources: [leases]}]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi*", "/api*"]
- level: Metadata
EOF
  # The scheduler reads its client QPS from a config file (the --kube-api-qps flag is deprecated).
  cat >"$CONF_DIR/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $ADMIN_KUBECONFIG
  qps: 500
  burst: 1000
leaderElection:
  leaderElect: false
EOF
  # Fake nodes managed by kwok. No NoSchedule taint (every pod may land there); room for
  # thousands of pods; each node gets its own /20 pod CIDR (kwok's default /24 holds only 254 IPs).
  # Node status may be set on create, and kwok keeps allocatable/capacity when present.
  local i
  : >"$CONF_DIR/nodes.yaml"
  for ((i = 0; i < CLUSTER_NODES; i++)); do
    cat >>"$CONF_DIR/nodes.yaml" <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
spec:
  podCIDR: 10.244.$((i * 16)).0/20
  podCIDRs: ["10.244.$((i * 16)).0/20"]
status:
  allocatable: {cpu: "1000", memory: 4Ti, pods: "$CLUSTER_NODE_MAX_PODS", ephemeral-storage: 10Ti}
  capacity: {cpu: "1000", memory: 4Ti, pods: "$CLUSTER_NODE_MAX_PODS", ephemeral-storage: 10Ti}
EOF
  done
}

print_hints() {
  log "kubeconfig: $KUBECONFIG_PATH"
  log "apiserver:  $SERVER  (metrics: kubectl get --raw /metrics)"
  echo "export KUBECONFIG=$KUBECONFIG_PATH"
}

# --- Main ----------------------------------------------------------------------------------------

"$here/build.sh" # no-op when the binaries are cached

lock_cluster
mkdir -p "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$RUN_DIR" # etcd creates its own data dir (0700)
touch "$MARKER"

# 1. What is left of a previous run?
running=() missing=()
for c in "${COMPONENTS[@]}"; do
  if live_pid "$c" >/dev/null; then running+=("$c"); else missing+=("$c"); fi
done
cluster_healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do component_healthy "$c" || return 1; done
  default_sa_exists
}
if [ ${#missing[@]} -eq 0 ] && [ -f "$ADMIN_KUBECONFIG" ]; then
  # A busy cluster (benchmark running) may answer slowly: give it a grace period before deciding
  # it is broken, since the remedy (a restart) would disrupt whatever is using it.
  healthy=0
  for ((attempt = 0; attempt < ${HEALTH_GRACE:-30}; attempt++)); do
    if cluster_healthy >/dev/null 2>&1; then
      healthy=1
      break
    fi
    sleep 1
  done
  if [ $healthy = 1 ]; then
    write_kubeconfig "$KUBECONFIG_PATH"
    write_env_file
    log "already running and healthy ($CLUSTER_DIR); nothing to do"
    print_hints
    exit 0
  fi
  log "all components are running but the cluster is not healthy; restarting it"
fi
if [ ${#running[@]} -gt 0 ]; then
  log "cleaning up a partial cluster from a previous run (running: ${running[*]}; missing: ${missing[*]:-none})"
fi
stop_all # stops what is ours, drops stale pid files

# Fail clearly (instead of in a log tail) when a port is held by something else.
ports_free_or_exit "stop that process or choose other ports (ETCD_PORT, APISERVER_PORT, ...)" \
  "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"

# 2. Inputs.
cleanup_on_exit=1
gen_pki
write_kubeconfig "$ADMIN_KUBECONFIG"
write_configs

# 3. etcd. --unsafe-no-fsync: test data, and fsync dominates etcd latency on a busy VM disk.
start etcd \
  --name=oidc-sso-local \
  --data-dir="$CLUSTER_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="oidc-sso-local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync \
  --quota-backend-bytes=$((4 * 1024 * 1024 * 1024)) \
  --log-level=warn
wait_until etcd "etcd /health" component_healthy etcd

# 4. kube-apiserver.
audit_flags=()
if [ "$CLUSTER_AUDIT" = 1 ]; then
  audit_flags=(--audit-policy-file="$CONF_DIR/audit-policy.yaml" --audit-log-path="$LOG_DIR/audit.log"
    --audit-log-maxsize=200 --audit-log-maxbackup=3)
fi
# --endpoint-reconciler-type=none: the `kubernetes` Service would otherwise get a 127.0.0.1 endpoint,
# which Endpoints validation rejects (loopback). Priority-and-fairness off: predictable throughput for
# benchmarks; --max-requests-inflight still applies. Kubelets (the real node of scripts/node/up.sh)
# are reached at their InternalIP (node names do not resolve here), their serving certificate is
# checked against the cluster CA, and the apiserver authenticates to them (logs, exec) as the admin.
start kube-apiserver \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI_DIR/sa.pub" --service-account-signing-key-file="$PKI_DIR/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --allow-privileged=true \
  --endpoint-reconciler-type=none \
  --enable-priority-and-fairness=false \
  --cert-dir="$RUN_DIR/kube-apiserver" \
  --kubelet-preferred-address-types=InternalIP \
  --kubelet-certificate-authority="$PKI_DIR/ca.crt" \
  --kubelet-client-certificate="$PKI_DIR/admin.crt" --kubelet-client-key="$PKI_DIR/admin.key" \
  "${audit_flags[@]}"
wait_until kube-apiserver "kube-apiserver /readyz" component_healthy kube-apiserver

# kwok takes a random holder identity per process and only drives nodes whose Lease it holds: after a
# restart it would wait for the previous process's leases to expire (40 s) before touching any pod.
# The previous kwok is gone (stopped above), so its leases can go; the new one recreates them at once.
kc -n kube-node-lease delete lease --all --ignore-not-found >/dev/null ||
  fail kube-apiserver "could not delete stale node leases"

# 5. Controllers, scheduler, kwok: independent of each other, so start all three, then wait.
# Garbage collector on (ownerReference GC is relied upon by tests); SA token + root CA publishing
# need the SA key and CA; high QPS so 1000+ pod benchmarks are not throttled client-side; a longer
# node grace period so a CPU-starved kwok heartbeat does not get the fake node marked NotReady.
start kube-controller-manager \
  --kubeconfig="$ADMIN_KUBECONFIG" \
  --authentication-kubeconfig="$ADMIN_KUBECONFIG" --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$RUN_DIR/kube-controller-manager" \
  --leader-elect=false \
  --controllers='*' --enable-garbage-collector=true \
  --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
  --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
  --kube-api-qps=1000 --kube-api-burst=2000 \
  --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 \
  --node-monitor-grace-period=120s
start kube-scheduler \
  --config="$CONF_DIR/scheduler.yaml" \
  --authentication-kubeconfig="$ADMIN_KUBECONFIG" --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$RUN_DIR/kube-scheduler"
# kwok never schedules: it only drives pods bound to the nodes it manages: its own fake nodes (they
# carry the annotation), never a real node's (scripts/node/up.sh), whose kubelet runs them for real.
start kwok \
  --kubeconfig="$ADMIN_KUBECONFIG" \
  --config="$(kwok_bin_dir)/stages.yaml" \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --server-address="127.0.0.1:$KWOK_PORT" \
  --node-lease-duration-seconds=40 \
  --cidr=10.240.0.0/16
wait_until kube-controller-manager "kube-controller-manager /healthz" component_healthy kube-controller-manager
wait_until kube-scheduler "kube-scheduler /healthz" component_healthy kube-scheduler
wait_until kwok "kwok /healthz" component_healthy kwok

# 6. Fake node(s), then what tests need before their first pod: a Ready node and the default SA.
kc apply -f "$CONF_DIR/nodes.yaml" >/dev/null || fail kube-apiserver "could not create the fake node(s)"
for ((i = 0; i < CLUSTER_NODES; i++)); do
  # The lease exists once kwok manages the node (a Ready condition may be left over from before a restart).
  wait_until kwok "kwok to take the lease of kwok-node-$i" kc -n kube-node-lease get lease "kwok-node-$i"
done
wait_until kwok "fake node(s) Ready" kc wait --for=condition=Ready node -l type=kwok --timeout=5s
wait_until kube-controller-manager "ServiceAccount default/default" default_sa_exists

# 7. Smoke checks with the user-facing kubeconfig and tools.
write_kubeconfig "$KUBECONFIG_PATH"
version=$("$KUBECTL" --kubeconfig="$KUBECONFIG_PATH" get --raw /version |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')
[ "$version" = "$K8S_VERSION" ] || fail kube-apiserver "server reports $version, expected $K8S_VERSION"
KUBECONFIG=$KUBECONFIG_PATH "$HELM" list -A >/dev/null || fail kube-apiserver "helm list -A failed"
write_env_file
cleanup_on_exit=0

log "up: kube-apiserver $version on $SERVER, $CLUSTER_NODES fake node(s), $(elapsed "$started_at")s"
print_hints
