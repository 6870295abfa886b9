# shellcheck shell=bash
# The one cache every installer of ours writes to, and the lock that makes an install safe when two
# tests start it at once on an empty cache: the first builds, the others wait, then find it built.
# Sourced; expects nothing. OIDC_SSO_CACHE moves the cache (scripts/test-cold.sh points it at an
# empty folder).
CACHE_ROOT=${OIDC_SSO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oidc-sso-operator}

# with_cache_lock NAME COMMAND...: runs COMMAND in a subshell holding $CACHE_ROOT/.locks/NAME.lock.
# COMMAND must check again, under the lock, whether its result is there: a waiter finds it built.
# The lock is released when COMMAND ends, so one script building several things never makes a second
# script wait for a thing it does not need.
with_cache_lock() {
  local name=$1
  shift
  mkdir -p "$CACHE_ROOT/.locks"
  (
    flock 7 || exit 1
    "$@"
  ) 7>"$CACHE_ROOT/.locks/$name.lock"
}

# An install builds into OUT.tmp and renames it to OUT once complete, so that nobody ever finds half
# an install at OUT. Both run under the install's with_cache_lock.
# cache_tmp OUT: an empty OUT.tmp (whatever an interrupted build left there is dropped).
cache_tmp() {
  rm -rf "$1.tmp"
  mkdir -p "$1.tmp"
}
# cache_commit OUT: the finished OUT.tmp becomes OUT (replacing an older OUT).
cache_commit() {
  rm -rf "$1"
  mv "$1.tmp" "$1"
}
