# Developer entry points. The local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok, helm) is built from the Go module proxy and cached in ~/.cache/oidc-sso-operator;
# its state lives in .cluster/ (override with CLUSTER_DIR=...). See scripts/cluster/*.sh.
SHELL := /usr/bin/env bash

.PHONY: cluster-build cluster-up cluster-down cluster-purge

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
