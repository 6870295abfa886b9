#!/usr/bin/env bash
# Builds Dex v2.45.1 (the identity provider) from the Go module proxy into the cache and prints the
# binary's path, for the end-to-end test against a real Dex (tests/e2e/dex.rs). Idempotent: a
# cached binary is reused.
#
# Dex's module path has no /v2 suffix, so the proxy serves no v2.x.y version of it; it serves the
# tagged commit as a pseudo-version (v0.0.0-<commit time>-<commit>), and the commit in that name
# is the one tag v2.45.1 points at (checked against a git mirror at DEX_MIRROR when there is one).
# Dex's go.mod replaces its api/v2 module with ./api/v2, a nested module the proxy's zip of dex
# leaves out; the build drops that replace and takes api/v2 v2.4.0 from the proxy instead (the
# version that go.mod requires; its Go sources are identical to v2.45.1's api/v2, only its go.mod
# and go.sum differ). It builds from a writable copy of the downloaded module; dependencies come
# from the proxy, checked against Dex's go.sum and the checksum database. Needs go and a C
# compiler (Dex links SQLite with cgo).
set -euo pipefail
DEX_VERSION=v2.45.1
DEX_COMMIT=11d2eeb52b42e1980e14cb91e69dd9e3faab2076
PSEUDO=v0.0.0-20260303133905-${DEX_COMMIT:0:12}
MODULE=github.com/dexidp/dex
# shellcheck source=../lib/go.sh
. "$(dirname "$0")/../lib/go.sh"
BIN=$CACHE_ROOT/bin/dex-$DEX_VERSION/dex
MIRROR=${DEX_MIRROR:-/work/.mirror/dexidp+dex/repo}

NAME=dex
log() { printf '[dex] %s\n' "$*" >&2; }

lock_or_cached
if [ -d "$MIRROR" ]; then
  tagged=$(git -C "$MIRROR" rev-list -n1 "$DEX_VERSION" 2>/dev/null || true)
  [ -z "$tagged" ] || [ "$tagged" = "$DEX_COMMIT" ] || {
    log "$DEX_VERSION is $tagged in $MIRROR, not $DEX_COMMIT"
    exit 1
  }
fi
writable_copy "$MODULE@$PSEUDO"
(cd "$build" && go mod edit -dropreplace github.com/dexidp/dex/api/v2 && go mod download github.com/dexidp/dex/api/v2)
log "building Dex $DEX_VERSION ($PSEUDO) — a few minutes on two cores"
(cd "$build" && go build -trimpath \
  -ldflags "-X main.version=$DEX_VERSION" -o "$BIN.part" ./cmd/dex)
install_built
