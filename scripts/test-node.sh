#!/usr/bin/env bash
# The end-to-end suites on the real node (`make test-node`; scripts/test.sh runs it after the kwok
# suites): pods of our image, installed with our chart, really run.
#   1. the images: the operator's (scripts/image/build.sh), the test app's
#      (scripts/image/build-testapp.sh) and the OpenMetadata stand-in's, one per release the
#      proof suite plays (scripts/image/build-om-standin.sh), in target/image/; and the operator an
#      upgrade is tested from (scripts/image/build-previous.sh, cached per pinned commit);
#   2. the local control plane (scripts/cluster/up.sh) and the real node with both images
#      (scripts/node/up.sh; binaries built once and cached like the control plane's);
#   3. cargo test --features e2e --test node;
#   4. stops the stand-in's PostgreSQL (the proof suite starts it: scripts/node/postgres.sh), the
#      node, and the control plane, if this script started them.
# Environment:
#   IMAGE_PROFILE  cargo profile of the operator's binary (default: image-test, optimised without
#                  whole-program LTO: about half the release build's time; `release` for the image
#                  a release ships)
#   OPERATOR_BIN   package this binary instead of building one (e.g. target/debug/oidc-sso-operator)
#   KEEP_NODE=1, KEEP_CLUSTER=1   leave them running;  CLUSTER_DIR  as for every script
# Needs root (containerd, runc, the pod network), like scripts/node/up.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=lib/script.sh
. "$root/scripts/lib/script.sh"
only_help err "${1:-}"

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)
cluster_dir=${CLUSTER_DIR:-$root/.cluster}

# Whether the node's kubelet and containerd run (the processes of this CLUSTER_DIR's node).
node_running() {
  (
    # shellcheck source=lib/node.sh
    . "$root/scripts/lib/node.sh"
    live_pid kubelet >/dev/null && live_pid containerd >/dev/null
  )
}

# Waits (up to 2 min) until no pod is left on the node. The suites' namespaces are deleted as each
# test ends, without waiting; a node stopped before its kubelet removed their pods would leave
# them, and their namespaces, Terminating until it runs again.
# shellcheck disable=SC2031 # NODE_NAME is the caller's; node_running's subshell only reads lib/node.sh
wait_node_empty() {
  local i left=0
  for ((i = 0; i < 120; i++)); do
    left=$(KUBECONFIG=$cluster_dir/kubeconfig kubectl get pods -A -o name \
      --field-selector "spec.nodeName=${NODE_NAME:-real-node-0}" 2>/dev/null | wc -l)
    [ "$left" = 0 ] && return 0
    sleep 1
  done
  echo "warning: $left pod(s) still on ${NODE_NAME:-real-node-0} after 2 min; stopping it anyway" >&2
}

started_cluster=0 started_node=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  # The stand-in's database (tests/node/standin.rs starts it; stopped by its PID file).
  scripts/node/postgres.sh stop || rc=1
  if [ "$started_node" = 1 ] && [ -z "${KEEP_NODE:-}" ]; then
    wait_node_empty
    scripts/node/down.sh || rc=1
  fi
  if [ "$started_cluster" = 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
    scripts/cluster/down.sh || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT

step "images (operator: ${OPERATOR_BIN:-cargo profile ${IMAGE_PROFILE:-image-test}}; test app; OpenMetadata stand-in)"
t=$(date +%s)
operator_archive=$(IMAGE_PROFILE=${IMAGE_PROFILE:-image-test} scripts/image/build.sh | sed -n 1p)
testapp_archive=$(scripts/image/build-testapp.sh | sed -n 1p)
# One stand-in image per OpenMetadata release the proof suite plays (tests/node/standin.rs).
mapfile -t standin_archives < <(OM_STANDIN_RELEASES="1.9.4 1.13.1 2.1.0" scripts/image/build-om-standin.sh |
  awk 'NR % 2 == 1')
# The operator an upgrade is tested from (tests/node/upgrade.rs): archive, image, chart folder.
mapfile -t previous < <(scripts/image/build-previous.sh)
[ ${#previous[@]} = 3 ] || {
  echo "scripts/image/build-previous.sh failed (see above)" >&2
  exit 1
}
echo "built $operator_archive, $testapp_archive, ${#standin_archives[@]} stand-in images and ${previous[1]} in $(took "$t")"

step "local control plane"
if ! KUBECONFIG=$cluster_dir/kubeconfig kubectl get --raw /readyz >/dev/null 2>&1; then
  started_cluster=1
fi
scripts/cluster/up.sh

step "real node (kubelet, containerd, runc) with both images"
t=$(date +%s)
node_running || started_node=1
scripts/node/up.sh "$operator_archive" "$testapp_archive" "${standin_archives[@]}" "${previous[0]}"
echo "node up with the images in $(took "$t")"

step "end-to-end tests on the real node"
t=$(date +%s)
# One test thread: the suites share the node's two cores with the control plane.
OIDCSSO_OPERATOR_ARCHIVE=$operator_archive OIDCSSO_PREVIOUS_IMAGE=${previous[1]} OIDCSSO_PREVIOUS_DIR=${previous[2]} \
  cargo test --features e2e --test node -- --test-threads 1
echo "node suites passed in $(took "$t") ($(took "$t0") in all)"
