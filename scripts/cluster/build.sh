#!/usr/bin/env bash
# Builds (once) the control-plane binaries from the Go module proxy and caches them under a version-keyed
# folder in ~/.cache, so a second run is instant and a fresh machine rebuilds what is missing.
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, helm
# and, only when named, promtool (Prometheus' rule checker, for the chart's alerts and dashboard tests).
# Usage: scripts/cluster/build.sh [component...]   (default: the control plane: etcd kwok helm k8s).
# scripts/cluster/env.sh puts helm on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/versions.sh
. "$here/../lib/versions.sh"
# shellcheck source=../lib/go.sh
. "$here/../lib/go.sh"

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
# k8s builds need several GiB; two parallel compile jobs match the 2-core machines we run on.
export GOMAXPROCS=${GOMAXPROCS:-2}

log() { printf '[build] %s\n' "$*" >&2; }

build_k8s() {
  local out
  out=$(k8s_bin_dir)
  if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/kube-scheduler" ]; then
    return 0
  fi
  log "kubernetes $K8S_VERSION: building kube-apiserver, kube-controller-manager, kube-scheduler (cold: many minutes)"
  go_build_k8s "$out" "$CACHE_ROOT/src/k8s-$K8S_VERSION" example.invalid/k8sbins \
    kube-apiserver kube-controller-manager kube-scheduler
}

build_etcd() {
  local out
  out=$(etcd_bin_dir)
  [ -x "$out/etcd" ] && return 0
  log "etcd $ETCD_VERSION: building"
  local w="$CACHE_ROOT/src/etcd-$ETCD_VERSION"
  # etcd's server module has replace lines, so `go install` refuses it; a wrapper module builds it instead.
  go_wrapper_module "$w" <<MOD
module example.invalid/etcdbin

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

tool go.etcd.io/etcd/server/v3
MOD
  (cd "$w" && go mod tidy && cache_tmp "$out" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  cache_commit "$out"
}

build_kwok() {
  local out
  out=$(kwok_bin_dir)
  [ -x "$out/kwok" ] && [ -f "$out/stages.yaml" ] && return 0
  log "kwok $KWOK_VERSION: building"
  cache_tmp "$out"
  GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok refuses to start without Stage definitions; they ship inside the module (the set kwokctl uses).
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ $first = 1 ] || echo '---' >>"$out.tmp/stages.yaml"
    first=0
    cat "$src/$f" >>"$out.tmp/stages.yaml"
  done
  cache_commit "$out"
}

build_helm() {
  local out
  out=$(helm_bin_dir)
  [ -x "$out/helm" ] && return 0
  log "helm $HELM_VERSION: building"
  go_install_cached "$out" \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# promtool from Prometheus' own module (no replace directives, so `go install module@version` takes it).
# Its version string is the release's (v0.316.0 is 3.16.0), as `promtool --version` prints it upstream.
build_promtool() {
  local out
  out=$(promtool_bin_dir)
  [ -x "$out/promtool" ] && return 0
  log "promtool (Prometheus $PROMETHEUS_VERSION): building (cold: a few minutes)"
  local v=${PROMETHEUS_VERSION#v0.}
  local release="${v:0:1}.${v:1}"
  go_install_cached "$out" \
    "-s -w -X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Branch=HEAD" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(etcd kwok helm k8s)
for c in "${components[@]}"; do
  case $c in
    etcd) with_cache_lock build-etcd build_etcd ;;
    kwok) with_cache_lock build-kwok build_kwok ;;
    helm) with_cache_lock build-helm build_helm ;;
    k8s) with_cache_lock build-k8s build_k8s ;;
    promtool) with_cache_lock build-promtool build_promtool ;;
    *)
      echo "unknown component: $c" >&2
      exit 2
      ;;
  esac
done
