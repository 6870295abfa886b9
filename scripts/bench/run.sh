#!/usr/bin/env bash
# `make bench`: oidc-sso-operator side by side with Stakater Reloader on the local control plane.
#
# 1. starts its own local cluster from an empty etcd (see below; stopped at the end);
# 2. builds the operator in release mode, Reloader at a pinned release (build-reloader.sh, cached
#    in ~/.cache/oidc-sso-operator), and the harness (bench/harness, its own cargo project);
# 3. applies the operator's CRD and runs the harness, which writes results.json and logs to
#    .work/bench/<time>/ and prints the side-by-side tables;
# 4. in full mode, writes docs/benchmarks.md from those results (BENCH_WRITE_DOCS=0 to skip; in
#    quick mode set BENCH_WRITE_DOCS=1 to write it anyway).
#
# Modes: full (default, about 45 minutes: 10/100/1000 targets, 100 updates each, 5 idle minutes per
# tool, 10,000 unrelated 8 KiB Secrets, 1000-resource cold starts) or BENCH_QUICK=1 (10/100 targets,
# 30 updates, 20 idle seconds, 1000 Secrets, 100-resource cold starts: a few minutes).
# Finer knobs (read by the harness): BENCH_SIZES=10,100,1000 BENCH_UPDATES BENCH_NOISE_UPDATES
# BENCH_IDLE_SECONDS BENCH_NOISE_SECRETS BENCH_NOISE_BYTES BENCH_COLD BENCH_KEYGEN
# BENCH_TOOLS=operator,reloader BENCH_PHASES=keygen,latency,cold BENCH_RESTART_SETTLE_SECONDS;
# BENCH_OPERATOR_BIN=path runs that operator build instead of building one (before/after comparisons).
# `scripts/bench/run.sh --report DIR` rewrites docs/benchmarks.md from DIR/results.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${BENCH_CACHE:-$HOME/.cache/oidc-sso-operator}
TARGET_DIR=${BENCH_TARGET_DIR:-$CACHE/bench/target}
DOC=$repo/docs/benchmarks.md
HISTORY=$repo/bench/history.md

log() { printf '[bench] %s\n' "$*" >&2; }

build_harness() {
  # Same versions as the operator (its lock file), same target directory: the dependencies the
  # operator's release build compiled are reused.
  cp "$repo/Cargo.lock" "$repo/bench/harness/Cargo.lock"
  CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --manifest-path "$repo/bench/harness/Cargo.toml" >&2
  echo "$TARGET_DIR/release/oidc-sso-bench"
}

if [ "${1:-}" = --report ]; then
  dir=${2:?usage: run.sh --report RESULTS_DIR}
  harness=$(build_harness)
  mkdir -p "$(dirname "$DOC")"
  "$harness" report "$dir/results.json" "$DOC" "$HISTORY"
  log "wrote $DOC"
  exit 0
fi

quick=${BENCH_QUICK:-0}
[ "$quick" = 0 ] || quick=1

# The benchmark's own cluster, from an empty etcd every run: a cluster that had run an hour of
# 1000-resource benchmarks measured a 25% higher latency floor than a fresh one (bench/history.md,
# entry 8). It listens on other ports than the development cluster and keeps its state in its own
# folder, so neither disturbs the other; it is stopped at the end (logs kept until the next run)
# unless BENCH_KEEP_CLUSTER=1.
export CLUSTER_DIR=${BENCH_CLUSTER_DIR:-$repo/.work/bench/cluster}
export ETCD_PORT=${BENCH_ETCD_PORT:-33790} ETCD_PEER_PORT=${BENCH_ETCD_PEER_PORT:-33800} \
  APISERVER_PORT=${BENCH_APISERVER_PORT:-36443} KCM_PORT=${BENCH_KCM_PORT:-30257} \
  SCHEDULER_PORT=${BENCH_SCHEDULER_PORT:-30259} KWOK_PORT=${BENCH_KWOK_PORT:-30247}
if KUBECONFIG=$repo/.cluster/kubeconfig "${KUBECTL:-kubectl}" get --raw /readyz >/dev/null 2>&1; then
  log "the development cluster (.cluster) is running: it shares these 2 cores; stop it (make cluster-down) for clean numbers"
fi
"$repo/scripts/cluster/down.sh" --purge >&2
"$repo/scripts/cluster/up.sh" >&2
[ "${BENCH_KEEP_CLUSTER:-0}" = 1 ] || trap '"$repo/scripts/cluster/down.sh" >&2' EXIT
# shellcheck disable=SC1091 # written by up.sh
. "$CLUSTER_DIR/env"
[ -n "${AUDIT_LOG:-}" ] || {
  log "the cluster writes no audit log (CLUSTER_AUDIT=0?); idle writes cannot be counted"
  exit 1
}
export KUBECONFIG

if [ -n "${BENCH_OPERATOR_BIN:-}" ]; then
  # A given build (for a before/after comparison); the report names it instead of the commit.
  operator=$BENCH_OPERATOR_BIN
  log "using the operator binary $operator (BENCH_OPERATOR_BIN)"
else
  log "building the operator (release, LTO: about 15 minutes on 2 cores from scratch)"
  CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --manifest-path "$repo/Cargo.toml" --bin oidc-sso-operator >&2
  operator=$TARGET_DIR/release/oidc-sso-operator
fi
reloader=$("$here/build-reloader.sh")
log "building the harness"
harness=$(build_harness)

log "applying the OidcSsoConfig CRD"
"$operator" crd | "$KUBECTL" apply --server-side --force-conflicts --field-manager=oidc-sso-bench -f - >&2
"$KUBECTL" wait --for=condition=Established --timeout=60s crd/oidcssoconfigs.oidcsso.io >&2

# shellcheck source=../cluster/versions.env
. "$repo/scripts/cluster/versions.env"
reloader_dir=$(dirname "$reloader")
reloader_version="$(cat "$reloader_dir/VERSION" 2>/dev/null || echo unknown)"
if [ -f "$reloader_dir/REPLACED" ]; then
  reloader_version="$reloader_version (built with replace $(cat "$reloader_dir/REPLACED"), see scripts/bench/build-reloader.sh)"
fi
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in src/"
fi
[ -z "${BENCH_OPERATOR_BIN:-}" ] || commit="binary $BENCH_OPERATOR_BIN, not built from $commit"
BENCH_VERSIONS="oidc-sso-operator=$("$operator" --version | awk '{print $2}') (commit $commit, cargo build --release);Stakater Reloader=$reloader_version;Kubernetes=$K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler), etcd $ETCD_VERSION, kwok $KWOK_VERSION;Rust=$(rustc --version | awk '{print $2}'), Go $(go env GOVERSION)"
export BENCH_VERSIONS

suffix=""
if [ "$quick" = 1 ]; then suffix=-quick; fi
out=$repo/.work/bench/$(date -u +%Y%m%dT%H%M%SZ)$suffix
mkdir -p "$out"
export BENCH_QUICK=$quick BENCH_OUT=$out BENCH_OPERATOR_BIN=$operator BENCH_RELOADER_BIN=$reloader \
  BENCH_AUDIT_LOG=$AUDIT_LOG BENCH_KEYS_CACHE=$CACHE/bench/byo-keys.json BENCH_CLUSTER_PIDS=$CLUSTER_DIR/pids
export BENCH_COMMAND=${BENCH_COMMAND:-$([ "$quick" = 1 ] && echo "BENCH_QUICK=1 make bench" || echo "make bench")}
log "results and logs: $out"
"$harness" run | tee "$out/tables.md"

write_docs=${BENCH_WRITE_DOCS:-$([ "$quick" = 1 ] && echo 0 || echo 1)}
if [ "$write_docs" = 1 ]; then
  "$harness" report "$out/results.json" "$DOC" "$HISTORY" >/dev/null
  log "wrote $DOC"
fi
