#!/usr/bin/env bash
# `make test` as a fresh machine runs it: a fresh clone of HEAD with every cache our scripts and
# toolchains install into pointed at empty folders under COLD_DIR (default: a new folder in /tmp):
# our cache (OIDC_SSO_CACHE: control plane, node, providers, venvs, JVM and Go builds), the Go module
# and build caches, Cargo's registry (the clone's target folder starts empty), Maven's repository,
# npm's and pip's caches.
# Prints the wall-clock time at the end; the README's cold figures come from this run. Slow (about an
# hour on two cores): it builds everything. Tools installed from Debian stay as the machine has them.
# Usage: scripts/test-cold.sh [COMMIT]   (default HEAD)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$root" rev-parse "${1:-HEAD}")
dir=${COLD_DIR:-$(mktemp -d /tmp/oidc-sso-cold.XXXXXX)}
mkdir -p "$dir"
if [ -n "$(ls -A "$dir")" ]; then
  echo "COLD_DIR=$dir is not empty: a cold run needs empty caches" >&2
  exit 2
fi
git clone -q "$root" "$dir/src"
git -C "$dir/src" checkout -q "$commit"
# The tests read shared/ beside the repository, as CI lays it out.
if [ -d "$root/../shared" ]; then
  ln -s "$(cd "$root/../shared" && pwd)" "$dir/shared"
fi
export OIDC_SSO_CACHE=$dir/cache/oidc-sso-operator
export GOMODCACHE=$dir/cache/go-mod GOCACHE=$dir/cache/go-build
export CARGO_HOME=$dir/cache/cargo
export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$dir/cache/m2"
export npm_config_cache=$dir/cache/npm PIP_CACHE_DIR=$dir/cache/pip
# Tools cargo installs (cargo-deny) land in the empty CARGO_HOME; the toolchain stays rustup's.
export PATH=$CARGO_HOME/bin:$PATH
echo "cold run of $commit in $dir/src, caches in $dir/cache" >&2
start=$(date +%s)
status=0
(cd "$dir/src" && make test) || status=$?
took=$(($(date +%s) - start))
printf 'cold make test: exit %s after %d min %d s (caches in %s)\n' "$status" $((took / 60)) $((took % 60)) "$dir/cache"
exit "$status"
