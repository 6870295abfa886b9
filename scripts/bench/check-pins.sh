#!/usr/bin/env bash
# Checks that the Go module proxy still serves the releases our scripts pin and build from it on
# demand (not on every `make test`): today Stakater Reloader, the benchmark's peer. A cheap
# `go mod download` of the module's metadata, so a refusal (the proxy stopped serving v1.4.21 with
# 403 "not available") fails CI instead of a user's first `make bench`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2016 # the sed pattern matches the literal ${RELOADER_VERSION:-...} text
version=$(sed -n 's/^RELOADER_VERSION=${RELOADER_VERSION:-\(v[0-9.]*\)}$/\1/p' "$here/build-reloader.sh")
[ -n "$version" ] || {
  echo "cannot read the pinned Reloader version from build-reloader.sh" >&2
  exit 1
}
if ! out=$(GOFLAGS=-mod=mod go mod download -json "github.com/stakater/Reloader@$version" 2>&1); then
  echo "the Go module proxy does not serve github.com/stakater/Reloader@$version (pinned in scripts/bench/build-reloader.sh): $out" >&2
  exit 1
fi
if printf '%s' "$out" | grep -q '"Error"'; then
  echo "the Go module proxy refused github.com/stakater/Reloader@$version (pinned in scripts/bench/build-reloader.sh): $out" >&2
  exit 1
fi
echo "github.com/stakater/Reloader@$version resolves"
