#!/usr/bin/env bash
# `make demo`: the operator's main job on the local control plane.
#   1. starts the local Kubernetes control plane (built on first use) and a local OIDC provider;
#   2. installs the CRD and starts the operator;
#   3. applies examples/openmetadata.yaml (an OpenMetadata-like Deployment, its OIDC client
#      Secret, an OidcSsoConfig) and waits for Ready;
#   4. prints the rendered settings (secrets redacted), the JWT key id and the rollout;
#   5. rotates the client secret and shows exactly one more rollout.
# Leaves everything running to explore; `make demo-down` (scripts/demo.sh --down) stops it all;
# scripts/demo.sh --stop stops only the demo's operator and OIDC provider.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state="$root/.cluster/demo"
ns=openmetadata-demo
idp_port=18282

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

stop_pid() { # name: stop the process recorded in $state/<name>.pid, if it is still ours
  local f="$state/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$2"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case "${1:-}" in
  --down | --stop)
    stop_pid operator "oidc-sso-operator"
    stop_pid idp "provider.mjs"
    [ "$1" = --down ] && scripts/cluster/down.sh
    exit 0
    ;;
esac

say "Local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)"
scripts/cluster/up.sh
export KUBECONFIG="$root/.cluster/kubeconfig"
mkdir -p "$state"

say "Building the operator"
cargo build --quiet
op="$root/target/debug/oidc-sso-operator"

say "Local OIDC provider (oidc-provider 8.8.1) on http://127.0.0.1:$idp_port"
stop_pid idp "provider.mjs"
scripts/oidc/install-provider.sh
# The client as examples/openmetadata.yaml's server logs in with it: its callback URL registered.
config=$(printf '{"port": %d, "clients": [{"client_id": "openmetadata", "client_secret": "demo-secret-1", "token_endpoint_auth_method": "client_secret_post", "redirect_uris": ["https://openmetadata.example.com/callback"]}]}' "$idp_port")
# setsid + nohup: the provider outlives this script; its PID is recorded to stop it later.
setsid nohup node tests/oidc-provider/provider.mjs "$config" >"$state/idp.log" 2>&1 </dev/null &
echo $! >"$state/idp.pid"
for _ in $(seq 100); do
  grep -q '^ready ' "$state/idp.log" 2>/dev/null && break
  sleep 0.2
done
grep -q '^ready ' "$state/idp.log" || {
  tail "$state/idp.log"
  exit 1
}
curl -fsS "http://127.0.0.1:$idp_port/.well-known/openid-configuration" | python3 -c \
  'import json,sys; d=json.load(sys.stdin); print("issuer:", d["issuer"]); print("jwks_uri:", d["jwks_uri"])'

say "Installing the CRD (kubectl apply --server-side -f crds/)"
kubectl apply --server-side -f crds/
kubectl wait --for=condition=Established crd/oidcssoconfigs.oidcsso.io --timeout=60s

say "Starting the operator (logs: $state/operator.log)"
stop_pid operator "oidc-sso-operator"
# The demo provider listens on loopback, which the operator refuses to contact unless allowed.
# --server-proof=false: the demo's pods are kwok's, with no OpenMetadata behind them to ask (the
# proof runs on the real node: make test-node).
setsid nohup "$op" run --http-addr 127.0.0.1:18080 --provider-allowed-networks 127.0.0.1/32 \
  --server-proof=false >"$state/operator.log" 2>&1 </dev/null &
echo $! >"$state/operator.pid"
for _ in $(seq 100); do
  curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS http://127.0.0.1:18080/readyz
echo

say "Applying examples/openmetadata.yaml"
kubectl apply -f examples/openmetadata.yaml
kubectl -n $ns rollout status deployment/openmetadata --timeout=120s >/dev/null
kubectl -n $ns wait --for=condition=Ready oidcssoconfig/openmetadata --timeout=120s
kubectl -n $ns rollout status deployment/openmetadata --timeout=120s
kubectl -n $ns get oidcssoconfig

say "Rendered server settings (Secret openmetadata-auth-env; secret values redacted)"
show_settings() {
  kubectl -n $ns get secret openmetadata-auth-env -o json | python3 -c '
import base64, hashlib, json, sys
data = json.load(sys.stdin)["data"]
for k in sorted(data):
    v = base64.b64decode(data[k]).decode()
    if k in ("OIDC_CLIENT_SECRET",):
        v = "<redacted sha256:%s>" % hashlib.sha256(v.encode()).hexdigest()[:12]
    print("%s=%s" % (k, v))'
}
show_settings

say "JWT keys (Secret openmetadata-jwt-keys) and the provider found by discovery"
kubectl -n $ns get oidcssoconfig openmetadata -o jsonpath='key id:      {.status.keys.keyId}{"\n"}fingerprint: {.status.keys.fingerprint}{"\n"}jwks_uri:    {.status.provider.jwksUri}{"\n"}config hash: {.status.configHash}{"\n"}'
# shellcheck disable=SC2016 # a Go template, not shell
kubectl -n $ns get secret openmetadata-jwt-keys -o go-template='files:       {{range $k, $v := .data}}{{$k}} {{end}}{{"\n"}}'

say "The rollout: the operator set oidcsso.io/config-hash on the pod template once"
kubectl -n $ns get replicasets -l app=openmetadata -o custom-columns='REPLICASET:.metadata.name,REVISION:.metadata.annotations.deployment\.kubernetes\.io/revision,DESIRED:.spec.replicas,READY:.status.readyReplicas,CONFIG-HASH:.spec.template.metadata.annotations.oidcsso\.io/config-hash'

say "Rotating the client secret in om-oidc-client"
before=$(kubectl -n $ns get oidcssoconfig openmetadata -o jsonpath='{.status.configHash}')
kubectl -n $ns patch secret om-oidc-client --type merge -p '{"stringData": {"clientSecret": "demo-secret-2"}}'
for _ in $(seq 300); do
  now=$(kubectl -n $ns get oidcssoconfig openmetadata -o jsonpath='{.status.configHash}')
  [ "$now" != "$before" ] && break
  sleep 0.2
done
kubectl -n $ns wait --for=condition=Ready oidcssoconfig/openmetadata --timeout=120s
kubectl -n $ns rollout status deployment/openmetadata --timeout=120s
say "Exactly one more rollout"
kubectl -n $ns get replicasets -l app=openmetadata -o custom-columns='REPLICASET:.metadata.name,REVISION:.metadata.annotations.deployment\.kubernetes\.io/revision,DESIRED:.spec.replicas,READY:.status.readyReplicas,CONFIG-HASH:.spec.template.metadata.annotations.oidcsso\.io/config-hash'
say "Events"
kubectl -n $ns get events --field-selector involvedObject.kind=OidcSsoConfig

cat <<MSG

The cluster, the OIDC provider and the operator keep running:
  export KUBECONFIG=$KUBECONFIG
  kubectl -n $ns get oidcsso,secrets,rs
  kubectl -n $ns annotate oidcsso openmetadata oidcsso.io/rotate-jwt-keys=\$(date +%s) --overwrite   # rotate the JWT keys
  curl -s http://127.0.0.1:18080/metrics | grep oidc_sso
Stop everything: make demo-down
MSG
