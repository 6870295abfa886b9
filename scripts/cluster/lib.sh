# shellcheck shell=bash
# Shared paths for the cluster scripts. Sourced after versions.env.
# shellcheck source=../lib/cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cache.sh"
k8s_bin_dir() { echo "$CACHE_ROOT/bin/kubernetes-$K8S_VERSION"; }
etcd_bin_dir() { echo "$CACHE_ROOT/bin/etcd-$ETCD_VERSION"; }
kwok_bin_dir() { echo "$CACHE_ROOT/bin/kwok-$KWOK_VERSION"; }
helm_bin_dir() { echo "$CACHE_ROOT/bin/helm-$HELM_VERSION"; }
promtool_bin_dir() { echo "$CACHE_ROOT/bin/promtool-$PROMETHEUS_VERSION"; }
