#!/usr/bin/env bash
# The whole test suite, as CI runs it (`make test`): lint, unit and offline tests, the suites
# against real OIDC providers that need no cluster, the end-to-end suites on the local control
# plane (kwok), then the suites on the real node (scripts/test-node.sh:
# our image and chart, pods really run). Installs or builds what a fresh machine lacks
# (control-plane and node binaries, the images, the OIDC test provider's npm packages, the Python
# validator's venv). Stops the node and the cluster at the end when it started them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "lint (scripts/lint.sh: the same steps as make lint)"
scripts/lint.sh

step "unit, mock-apiserver and offline tests (renderer against OpenMetadata's template and models, CRD drift, OpenMetadata's chart)"
# The offline tests render OpenMetadata's official chart with helm (built once, cached).
scripts/cluster/build.sh helm >/dev/null
# The Compose env files are read back with compose-go (built once from the Go module proxy, cached).
scripts/compose/build.sh >/dev/null
# The chart's alerts and dashboard are checked with promtool (built once from the Go module proxy,
# cached), offline here and on the operator's real series in the end-to-end suite.
scripts/cluster/build.sh promtool >/dev/null
# The OpenMetadata stand-in's own unit tests (the JWKS encoding, the substitution, the auth answer
# per release); the offline suite then runs its binary against a real PostgreSQL.
(cd scripts/image/omserver && GOWORK=off GOFLAGS=-mod=mod go vet ./... && GOWORK=off GOFLAGS=-mod=mod go test ./...)
cargo test

step "provider suites (no cluster: the checks against the test provider, its profiles against a real Keycloak and Dex, render --verify)"
scripts/oidc/install-provider.sh
# A real Keycloak (Maven Central, checksum pinned, cached) for tests/providers/keycloak.rs and
# tests/e2e/real_providers.rs.
scripts/oidc/install-keycloak.sh >/dev/null
# A real Dex (built from the Go module proxy, cached) for tests/providers/dex.rs and
# tests/e2e/real_providers.rs.
scripts/oidc/build-dex.sh >/dev/null
cargo test --features providers --test providers -- --test-threads "${E2E_THREADS:-4}"

step "local control plane"
started=0
if ! KUBECONFIG=${CLUSTER_DIR:-.cluster}/kubeconfig kubectl get --raw /readyz >/dev/null 2>&1; then
  started=1
fi
scripts/cluster/up.sh
if [ "$started" = 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
  trap 'scripts/cluster/down.sh' EXIT
fi

# A demo operator watches every namespace and would reconcile the tests' resources too.
if [ -f .cluster/demo/operator.pid ]; then
  echo "stopping the demo's operator and OIDC provider (scripts/demo.sh --stop) so they cannot interfere"
  scripts/demo.sh --stop
fi

step "end-to-end tests (real kube-apiserver, kube-controller-manager, kube-scheduler, kwok, OIDC provider, Keycloak, Dex, Hydra, helm, kubectl)"
# A real Ory Hydra (built from the Go module proxy, cached) for tests/e2e/hydra.rs.
scripts/oidc/build-hydra.sh >/dev/null
# Only the suites that need the cluster (one test binary): the offline and provider ones ran above.
cargo test --features e2e --test e2e -- --test-threads "${E2E_THREADS:-4}"

step "end-to-end tests on the real node (our image, installed with our chart; pods really run)"
# Builds both images, starts the node with them (and stops it again), runs the node suites.
scripts/test-node.sh

step "all tests passed"
