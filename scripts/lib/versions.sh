# shellcheck shell=bash source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR/lib
# The pinned versions of the control plane and its tools (scripts/cluster/versions.env, data) and the
# version-keyed cache folders of the binaries scripts/cluster/build.sh builds from them.
# Sourced; expects nothing. Loads cache.sh (CACHE_ROOT, with_cache_lock).

# shellcheck source=cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
# shellcheck source=../cluster/versions.env
. "$(dirname "${BASH_SOURCE[0]}")/../cluster/versions.env"

k8s_bin_dir() { echo "$CACHE_ROOT/bin/kubernetes-$K8S_VERSION"; }
etcd_bin_dir() { echo "$CACHE_ROOT/bin/etcd-$ETCD_VERSION"; }
kwok_bin_dir() { echo "$CACHE_ROOT/bin/kwok-$KWOK_VERSION"; }
helm_bin_dir() { echo "$CACHE_ROOT/bin/helm-$HELM_VERSION"; }
promtool_bin_dir() { echo "$CACHE_ROOT/bin/promtool-$PROMETHEUS_VERSION"; }
