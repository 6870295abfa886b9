# Developer entry points. The local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok, helm) is built from the Go module proxy and cached in ~/.cache/oidc-sso-operator;
# its state lives in .cluster/ (override with CLUSTER_DIR=...). See scripts/cluster/*.sh.
SHELL := /usr/bin/env bash

.PHONY: test test-cold test-unit test-providers test-e2e demo demo-down generate fmt lint bench cluster-build cluster-up cluster-down cluster-purge \
	image image-testapp node-build node-up node-down test-node release

## The whole test suite (what CI runs): lint, unit, offline and end-to-end tests.
test:
	scripts/test.sh

## `make test` as on a fresh machine: a fresh clone of HEAD, every cache pointed at empty folders
## (scripts/test-cold.sh; about an hour). The README's cold figures come from it.
test-cold:
	scripts/test-cold.sh

## Fast tier: unit tests, the renderer against OpenMetadata's template and models, CRD drift,
## OpenMetadata's official chart (helm template; helm is built once and cached), our chart's alerts and
## dashboard (promtool, built once and cached).
test-unit:
	scripts/cluster/build.sh helm promtool >/dev/null
	scripts/compose/build.sh >/dev/null
	cargo test

## The suites against real OIDC provider processes that need no cluster (tests/providers): the
## checks against the test provider and its profiles, the profiles against a real Keycloak and Dex.
test-providers:
	scripts/oidc/install-provider.sh
	scripts/oidc/install-keycloak.sh >/dev/null
	scripts/oidc/build-dex.sh >/dev/null
	cargo test --features providers --test providers -- --test-threads $${E2E_THREADS:-4}

## The suites on the real node: builds both images (IMAGE_PROFILE, default image-test), starts the
## local control plane and the node with them, runs them, stops what it started.
test-node:
	scripts/test-node.sh

## End-to-end suites only, on the local control plane (started if needed, left running).
test-e2e: cluster-up
	scripts/cluster/build.sh promtool >/dev/null
	scripts/oidc/install-provider.sh
	scripts/oidc/install-keycloak.sh >/dev/null
	scripts/oidc/build-dex.sh >/dev/null
	scripts/oidc/build-hydra.sh >/dev/null
	cargo test --features e2e --test e2e -- --test-threads $${E2E_THREADS:-4}

## The operator's main job on the local control plane: install, reconcile, roll, rotate.
demo:
	scripts/demo.sh

## Stop what the demo started (operator, OIDC provider) and the local cluster.
demo-down:
	scripts/demo.sh --down

## Regenerate crds/ and the chart's CRD copy from the Rust types.
generate:
	scripts/generate.sh

## Format the Rust code and the shell scripts.
fmt:
	cargo fmt --all
	scripts/lint-shell.sh --fix

## Every lint step (scripts/lint.sh; make test runs the same list).
lint:
	scripts/lint.sh

## Benchmarks against Stakater Reloader on the local control plane.
bench:
	scripts/bench/run.sh

## Build (once) and cache the control-plane binaries.
cluster-build:
	scripts/cluster/build.sh

## Start the local cluster (no-op when it is already running and healthy).
cluster-up:
	scripts/cluster/up.sh

## Stop the local cluster; keeps logs and data.
cluster-down:
	scripts/cluster/down.sh

## Stop the local cluster and delete its state folder.
cluster-purge:
	scripts/cluster/down.sh --purge

## The operator's image without Docker (buildah, from scratch): target/image/oidc-sso-operator-<version>.oci.tar.
## IMAGE_PROFILE=<cargo profile> builds the binary with another profile; OPERATOR_BIN=<path> uses a built one.
image:
	scripts/image/build.sh

## The e2e suites' target image (serves its environment and mounted files): target/image/testapp-<version>.oci.tar.
image-testapp:
	scripts/image/build-testapp.sh

## The release artifacts of Cargo.toml's version in target/release-artifacts/: the image archive, the
## packaged chart (its default image is that image's tag), the CRD bundle, a CycloneDX SBOM, SHA256SUMS.
## Fails when Chart.yaml or CHANGELOG.md disagree with Cargo.toml. IMAGE_PROFILE as for `make image`.
release:
	scripts/release/build.sh

## Build (once) and cache the real node's binaries: kubelet, containerd, the CNI plugins, the pause image,
## the OCI registry its registry suite pushes to; runc and skopeo from Debian.
node-build:
	scripts/node/build.sh

## Start a real node (kubelet + containerd) next to the running local cluster, importing the images in
## target/image/*.oci.tar (or NODE_IMAGES="a.oci.tar b.oci.tar"). Needs `make cluster-up` first.
node-up:
	scripts/node/up.sh $${NODE_IMAGES:-$$(ls target/image/*.oci.tar 2>/dev/null)}

## Stop the real node (its containers too); keeps its state. Run it before cluster-down.
node-down:
	scripts/node/down.sh
