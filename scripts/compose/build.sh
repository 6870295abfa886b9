#!/usr/bin/env bash
# Builds (once, cached by content) compose-check, the offline tests' Compose loader: tests/compose
# against compose-go, the library Docker Compose reads compose files and env files with, from the
# Go module proxy (go.sum pins it). Prints the binary's path. Needs Go 1.24+.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/compose
# shellcheck source=../lib/cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cache.sh"
cache_root=$CACHE_ROOT
command -v go >/dev/null || {
  echo "go not found on PATH: Go 1.24+ builds the Compose loader the offline tests need" >&2
  exit 1
}
key=$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -c1-16)
out=$cache_root/bin/compose-check-$key
mkdir -p "$cache_root/bin"
# Tests call this concurrently: one builds, the others wait for it.
exec 9>"$cache_root/compose-check.lock"
flock 9
if [ ! -x "$out" ]; then
  (cd "$src" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .) >&2
  mv "$out.tmp" "$out"
fi
echo "$out"
