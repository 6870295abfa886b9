# shellcheck shell=bash source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR/lib
# Building Go programs into the cache from the Go module proxy: the Kubernetes commands
# (scripts/cluster/build.sh, scripts/node/build.sh), a program built from a writable copy of its
# module (scripts/oidc/build-{dex,hydra}.sh; scripts/bench/build-reloader.sh uses go_module_dir).
# Sourced; expects a function log (each script logs with its own prefix); go_build_k8s also expects
# K8S_VERSION (versions.sh), the module helpers NAME (file names) and BIN (the binary to build).
# Loads cache.sh (CACHE_ROOT, with_cache_lock, cache_tmp, cache_commit).

# shellcheck source=cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

# require_go: exits 1, saying so, when go is not on PATH.
require_go() {
  command -v go >/dev/null || {
    log "go not found on PATH"
    exit 1
  }
}

# go_module_dir MODULE@VERSION: downloads the module from the proxy and prints its folder in the
# module cache (read-only); prints nothing when the proxy does not serve it.
go_module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# go_install_cached OUT LDFLAGS PACKAGE@VERSION...: `go install`s the commands into the folder OUT
# (through OUT.tmp, renamed when complete), linked with LDFLAGS.
go_install_cached() {
  local out=$1 ldflags=$2
  shift 2
  cache_tmp "$out"
  GOBIN="$out.tmp" go install -trimpath -ldflags "$ldflags" "$@"
  cache_commit "$out"
}

# go_wrapper_module DIR: an empty folder DIR with the go.mod read from stdin: a module of our own
# that requires what is to be built (a module with replace lines cannot be `go install`ed).
go_wrapper_module() {
  rm -rf "$1"
  mkdir -p "$1"
  cat >"$1/go.mod"
}

# go_build_k8s OUT WRAPPER MODULE COMMAND...: builds the commands k8s.io/kubernetes/cmd/COMMAND... of
# $K8S_VERSION into OUT (through OUT.tmp, renamed when complete), in a wrapper module named MODULE in
# the folder WRAPPER. Version stamps and flags are those of every build of ours, so that builds in
# different wrappers (the control plane's, the kubelet's) share compiled packages.
go_build_k8s() {
  local out=$1 w=$2 module=$3 sv="v0.${K8S_VERSION#v1.}" minor modfile c tools="" pkgs=()
  shift 3
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  for c in "$@"; do
    tools+=$'\t'"k8s.io/kubernetes/cmd/$c"$'\n'
    pkgs+=("k8s.io/kubernetes/cmd/$c")
  done
  go_wrapper_module "$w" <<MOD
module $module

go 1.26.0

require k8s.io/kubernetes $K8S_VERSION

tool (
${tools})
MOD
  # The staging modules are required at v0.0.0 by k8s.io/kubernetes and resolved through ./staging replaces
  # that do not apply to a dependency: derive the replace list from the tag's own go.mod, so a new staging
  # module in a later release needs no edit here.
  modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  (
    cd "$w" || exit
    grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk '{print $1}' | sort -u |
      while read -r m; do go mod edit -replace="$m=$m@$sv"; done
    go mod tidy
    local ldf="-s -w" p
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldf="$ldf -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
      ldf="$ldf -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    cache_tmp "$out"
    go build -trimpath -ldflags "$ldf" -o "$out.tmp/" "${pkgs[@]}"
  )
  cache_commit "$out"
}

# --- A program built from a writable copy of its module (NAME, BIN) ----------------------------------

# lock_or_cached: takes the build lock of NAME (one build at a time); prints the cached BIN and exits
# when there is one already; checks that go is there.
# shellcheck disable=SC2153 # NAME is the sourcing script's
lock_or_cached() {
  mkdir -p "$CACHE_ROOT/bin"
  exec 9>"$CACHE_ROOT/bin/.$NAME-build.lock"
  flock 9
  if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
  fi
  require_go
}

# writable_copy MODULE@VERSION: downloads the module and sets $build to a writable copy of it,
# removed when the script exits (its go.mod is edited before the build).
writable_copy() {
  local dir
  dir=$(go_module_dir "$1")
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "the Go module proxy did not serve $1"
    exit 1
  fi
  build=$(mktemp -d "$CACHE_ROOT/bin/.$NAME-src.XXXXXX")
  trap 'chmod -R u+w "$build" && rm -rf "$build"' EXIT
  cp -r "$dir/." "$build/"
  chmod -R u+w "$build"
  mkdir -p "$(dirname "$BIN")"
}

# install_built: moves the finished $BIN.part into place and prints its path.
install_built() {
  mv "$BIN.part" "$BIN"
  log "built $BIN"
  echo "$BIN"
}
