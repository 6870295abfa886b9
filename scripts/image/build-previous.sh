#!/usr/bin/env bash
# Builds the operator an upgrade is tested from (tests/node/upgrade.rs): the commit pinned in
# scripts/release/previous.env, checked out with `git worktree` and built by its own
# scripts/image/build.sh, so the image is what that commit shipped. Cached per commit:
#   $OIDC_SSO_CACHE/previous/<commit>/image.oci.tar   image reference oidc-sso-operator:previous-<short>
#   $OIDC_SSO_CACHE/previous/<commit>/chart/          that commit's charts/oidc-sso-operator
#   $OIDC_SSO_CACHE/previous/<commit>/crds/           that commit's crds/
# Prints the archive's path, the image reference and the folder (three lines on stdout).
# The tag differs from the working tree's image (oidc-sso-operator:<version>): both are on the node
# at once, and the chart's default tag is the same version until a release changes it.
#
# Environment: IMAGE_PROFILE (default image-test), PREVIOUS_COMMIT (default: the pinned one).
# The clone must hold the commit (a shallow clone is fetched from its origin once, then refused).
# The build's cargo target folder is kept under the cache (about 7 min from scratch on 2 cores;
# the image is cached, so only a new pin builds again).
set -euo pipefail
# shellcheck source=../lib/script.sh
. "$(dirname "$0")/../lib/script.sh"
# shellcheck source=../lib/cache.sh
. "$repo/scripts/lib/cache.sh"
requested=${PREVIOUS_COMMIT:-}
# shellcheck source=../release/previous.env
. "$repo/scripts/release/previous.env"

log() { printf '[previous] %s\n' "$*" >&2; }
only_help log "${1:-}"

commit=${requested:-${PREVIOUS_COMMIT:?scripts/release/previous.env names no PREVIOUS_COMMIT}}
short=${commit:0:7}
ref=oidc-sso-operator:previous-$short
out=$CACHE_ROOT/previous/$commit

# Makes sure the clone holds the commit: a shallow clone (CI's may be) fetches it from origin once.
have_commit() {
  git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || {
    log "$repo is not a git checkout: the previous release is built from a worktree of $commit"
    return 1
  }
  git -C "$repo" cat-file -e "$commit^{commit}" 2>/dev/null && return 0
  log "the clone lacks $commit; fetching it from origin"
  git -C "$repo" fetch --quiet origin "$commit" 2>/dev/null &&
    git -C "$repo" cat-file -e "$commit^{commit}" 2>/dev/null && return 0
  log "cannot get $commit (git fetch --unshallow, or pin a commit this clone has)"
  return 1
}

# Under the cache lock: a second caller waits, then finds the folder built.
build() {
  [ -f "$out/image.oci.tar" ] && return 0
  have_commit
  local tmp started
  started=$(date +%s)
  tmp=$(mktemp -d "$CACHE_ROOT/previous/.build-XXXXXX")
  # shellcheck disable=SC2064 # the paths are fixed now
  trap "git -C '$repo' worktree remove --force '$tmp/src' >/dev/null 2>&1 || true; git -C '$repo' worktree prune; rm -rf '$tmp'" EXIT
  git -C "$repo" worktree add --quiet --detach "$tmp/src" "$commit"
  log "building $ref from $commit (its own scripts/image/build.sh, profile ${IMAGE_PROFILE:-image-test})"
  (
    cd "$tmp/src"
    CARGO_TARGET_DIR=$CACHE_ROOT/previous/target IMAGE_OUT_DIR=$tmp/image \
      IMAGE_PROFILE=${IMAGE_PROFILE:-image-test} IMAGE_TAG=previous-$short \
      scripts/image/build.sh >"$tmp/built"
  )
  mkdir -p "$tmp/out"
  mv "$(sed -n 1p "$tmp/built")" "$tmp/out/image.oci.tar"
  cp -r "$tmp/src/charts/oidc-sso-operator" "$tmp/out/chart"
  cp -r "$tmp/src/crds" "$tmp/out/crds"
  rm -rf "$out"
  mv "$tmp/out" "$out"
  log "built in $(($(date +%s) - started))s"
}

mkdir -p "$CACHE_ROOT/previous"
with_cache_lock "previous-$commit" build
printf '%s\n%s\n%s\n' "$out/image.oci.tar" "$ref" "$out"
