# shellcheck shell=bash
# Shared by build-dex.sh and build-hydra.sh, which build a provider from its module on the Go module
# proxy into the cache. Sourced; expects NAME (log prefix and file names), CACHE and BIN.

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }

# Takes the build lock of NAME (one build at a time); prints the cached binary and exits when there
# is one already; checks that go is there.
lock_or_cached() {
  mkdir -p "$CACHE/bin"
  exec 9>"$CACHE/bin/.$NAME-build.lock"
  flock 9
  if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
  fi
  command -v go >/dev/null || {
    log "go not found on PATH"
    exit 1
  }
}

# writable_copy MODULE@VERSION: downloads the module and sets $build to a writable copy of it,
# removed when the script exits (its go.mod is edited before the build).
writable_copy() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "the Go module proxy did not serve $1"
    exit 1
  fi
  build=$(mktemp -d "$CACHE/bin/.$NAME-src.XXXXXX")
  trap 'chmod -R u+w "$build" && rm -rf "$build"' EXIT
  cp -r "$dir/." "$build/"
  chmod -R u+w "$build"
  mkdir -p "$(dirname "$BIN")"
}

# Moves the finished $BIN.part into place and prints its path.
install_built() {
  mv "$BIN.part" "$BIN"
  log "built $BIN"
  echo "$BIN"
}
