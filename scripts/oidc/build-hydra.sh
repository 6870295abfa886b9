#!/usr/bin/env bash
# Builds Ory Hydra v2.3.0 (an OAuth 2.0 / OpenID Connect provider, what OpenMetadata calls a Custom
# OIDC provider) from the Go module proxy into the cache and prints the binary's path, for the
# end-to-end test against a real Hydra (tests/e2e/hydra.rs). Idempotent: a cached binary is reused.
#
# Hydra's go.mod replaces github.com/ory/hydra-client-go/v2 with ./internal/httpclient, a nested
# module the proxy's zip of hydra leaves out; the build replaces it with hydra-client-go v2.2.1 from
# the proxy instead (the server binary uses it only for its admin CLI commands). It builds from a
# writable copy of the downloaded module with the `sqlite` tag (the in-memory database the test
# uses); dependencies come from the proxy, checked against Hydra's go.sum and the checksum
# database. Needs go and a C compiler (SQLite through cgo).
set -euo pipefail
HYDRA_VERSION=v2.3.0
CLIENT_VERSION=v2.2.1
MODULE=github.com/ory/hydra/v2
# shellcheck source=../lib/go.sh
. "$(dirname "$0")/../lib/go.sh"
BIN=$CACHE_ROOT/bin/hydra-$HYDRA_VERSION/hydra

NAME=hydra
log() { printf '[hydra] %s\n' "$*" >&2; }

lock_or_cached
writable_copy "$MODULE@$HYDRA_VERSION"
(cd "$build" &&
  go mod edit -replace "github.com/ory/hydra-client-go/v2=github.com/ory/hydra-client-go/v2@$CLIENT_VERSION" &&
  GOFLAGS=-mod=mod go mod download github.com/ory/hydra-client-go/v2)
log "building Hydra $HYDRA_VERSION — a few minutes on two cores"
(cd "$build" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -tags sqlite,sqlite_omit_load_extension \
  -ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$HYDRA_VERSION" -o "$BIN.part" .)
install_built
