#!/usr/bin/env bash
# Builds Stakater Reloader at a pinned release into the cache (never into the repository) and prints
# the binary's path. Idempotent: a cached binary is reused.
#
# Source of the pinned release, first that works:
#   1. the Go module proxy: `go mod download github.com/stakater/Reloader@$RELOADER_VERSION`, then a
#      build from inside the downloaded module directory (its go.mod carries `replace` lines, which
#      `go install pkg@version` refuses, but a build inside the module honours);
#   2. RELOADER_SRC: a directory holding that release's source tree, or a git directory that has
#      the release tag (the tag is exported with `git archive`, nothing else is read).
# The pin is a release the proxy serves (it refused v1.4.21 with 403 "not available" and serves
# v1.4.22); `make test` checks that it still resolves (scripts/bench/check-pins.sh), so the next
# refusal is found by CI, not by a user of `make bench`.
# Dependencies always come from the Go module proxy, checked against the release's go.sum. One
# exception: when the proxy refuses the github.com/openshift/api pseudo-version the release pins
# (Reloader uses it only for OpenShift DeploymentConfig types), the build copy gets a `replace` to
# the pseudo-version Reloader v1.4.13 pinned, with that release's go.sum lines (checksums below),
# so the build stays verified. And one source line: Reloader binds its metrics/health server to
# ":9090" (every interface) with no flag to change it; the build copy binds it to 127.0.0.1:9090
# instead, since everything the benchmark starts stays on loopback. Nothing else is changed.
#
# Environment: RELOADER_VERSION (default below), RELOADER_SRC, BENCH_CACHE (default: our cache).
set -euo pipefail

RELOADER_VERSION=${RELOADER_VERSION:-v1.4.22}
MODULE=github.com/stakater/Reloader
# shellcheck source=../lib/go.sh
. "$(dirname "$0")/../lib/go.sh"
CACHE=${BENCH_CACHE:-$CACHE_ROOT}
OUT_DIR=$CACHE/bin/reloader-$RELOADER_VERSION-loopback
# Named `reloader` on purpose: client-go derives the User-Agent from the binary name
# ("reloader/v0.0.0 (linux/amd64) kubernetes/$Format"), which the audit-log counts match on.
BIN=$OUT_DIR/reloader

log() { printf '[bench] %s\n' "$*" >&2; }

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
require_go
mkdir -p "$OUT_DIR"

src=""
if dir=$(go_module_dir "$MODULE@$RELOADER_VERSION" 2>/dev/null) && [ -n "$dir" ] && [ -d "$dir" ]; then
  log "Reloader $RELOADER_VERSION from the Go module proxy: $dir"
  src=$dir
else
  log "the Go module proxy did not serve $MODULE@$RELOADER_VERSION; looking for a local source"
  candidate=${RELOADER_SRC:-}
  [ -n "$candidate" ] || {
    log "no source for Reloader $RELOADER_VERSION: set RELOADER_SRC to its source tree or a git clone with tag $RELOADER_VERSION"
    exit 1
  }
  src=$candidate
fi

# A writable build copy in the cache (the module cache is read-only).
build=$CACHE/src/reloader-$RELOADER_VERSION
if [ ! -f "$build/go.mod" ]; then
  cache_tmp "$build"
  if [ -f "$src/go.mod" ]; then
    cp -r "$src/." "$build.tmp/" && chmod -R u+w "$build.tmp"
  else
    gitdir=$src
    [ -d "$src/.git" ] && gitdir=$src/.git
    git --git-dir="$gitdir" rev-parse -q --verify "refs/tags/$RELOADER_VERSION^{commit}" >/dev/null || {
      log "$src is neither a source tree nor a git directory with tag $RELOADER_VERSION"
      exit 1
    }
    log "exporting tag $RELOADER_VERSION of $src to $build"
    git --git-dir="$gitdir" archive "$RELOADER_VERSION" | tar -x -C "$build.tmp"
  fi
  cache_commit "$build"
fi
grep -q "^module $MODULE\$" "$build/go.mod" || {
  log "$build/go.mod is not $MODULE"
  exit 1
}

cd "$build"
openshift_api=$(awk '$1 == "github.com/openshift/api" && $2 ~ /^v/ {print $2; exit}' go.mod)
if [ -n "$openshift_api" ] && ! grep -q "github.com/openshift/api =>" go.mod &&
  ! GOFLAGS=-mod=mod go mod download "github.com/openshift/api@$openshift_api" >/dev/null 2>&1; then
  fallback=v0.0.0-20260102143802-d2ec16864f86
  log "github.com/openshift/api@$openshift_api is not served; replacing it with $fallback (pinned by Reloader v1.4.13)"
  go mod edit -replace "github.com/openshift/api=github.com/openshift/api@$fallback"
  cat >>go.sum <<'SUMS'
github.com/openshift/api v0.0.0-20260102143802-d2ec16864f86 h1:Vsqg+WqSA91LjrwK5lzkSCjztK/B+T8MPKI3MIALx3w=
github.com/openshift/api v0.0.0-20260102143802-d2ec16864f86/go.mod h1:d5uzF0YN2nQQFA0jIEWzzOZ+edmo6wzlGLvx5Fhz4uY=
SUMS
  echo "github.com/openshift/api $openshift_api => $fallback" >"$OUT_DIR/REPLACED"
fi

listen=internal/pkg/constants/constants.go
sed -i 's|DefaultHttpListenAddr = ":9090"|DefaultHttpListenAddr = "127.0.0.1:9090"|' "$listen"
grep -q 'DefaultHttpListenAddr = "127.0.0.1:9090"' "$listen" || {
  log "could not bind Reloader's HTTP server to 127.0.0.1 ($listen changed upstream?)"
  exit 1
}

log "building Reloader $RELOADER_VERSION (takes a few minutes the first time)"
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" .
mv -f "$BIN.tmp" "$BIN"
echo "$RELOADER_VERSION" >"$OUT_DIR/VERSION"
log "built $BIN"
echo "$BIN"
