# shellcheck shell=bash source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR/lib
# Building OCI images without a Docker engine (buildah, vfs storage, from scratch) and the operator's
# version metadata, for scripts/image/*.sh, scripts/node/build.sh and scripts/release/build.sh.
# Sourced; expects nothing. Loads script.sh ($repo, help) and cache.sh (CACHE_ROOT: buildah's storage).

# shellcheck source=script.sh
. "$(dirname "${BASH_SOURCE[0]}")/script.sh"
# shellcheck source=cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

IMAGE_OUT_DIR=${IMAGE_OUT_DIR:-$repo/target/image}

ilog() { printf '[image] %s\n' "$*" >&2; }

# ensure_pkg COMMAND PACKAGE: installs the Debian package when COMMAND is missing (fresh machine).
ensure_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    ilog "missing $1: install the '$2' package (needs root and apt-get to do it automatically)"
    return 1
  fi
  ilog "installing $2 (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}

# The operator's version: [package] version in Cargo.toml.
crate_version() {
  awk '/^\[package\]/ { p = 1; next } /^\[/ { p = 0 } p && /^version *=/ { gsub(/[" ]/, "", $0); sub(/^version=/, "", $0); print; exit }' \
    "$repo/Cargo.toml"
}

# The commit the image is built from (HEAD of the repository), "unknown" outside a git checkout.
git_revision() { git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown; }

# Timestamp of every file and of the image config: the commit time, so that the same commit and the
# same binary give the same image digest (SOURCE_DATE_EPOCH wins when set).
source_epoch() {
  echo "${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}"
}

# buildah with private vfs storage (no overlay, no fuse, no host-wide /var/lib/containers state).
BUILDAH_ROOT=${BUILDAH_ROOT:-$CACHE_ROOT/buildah}
bah() {
  buildah --storage-driver vfs --root "$BUILDAH_ROOT/storage" --runroot "$BUILDAH_ROOT/run" "$@"
}

# scratch_image ROOTFS ARCHIVE REF CONFIG...: an image made of exactly the files below ROOTFS (one
# layer, owned by root), configured by the `buildah config` arguments CONFIG..., written as an OCI
# archive ARCHIVE whose index names it REF. Atomic: ARCHIVE is replaced only on success.
scratch_image() {
  local rootfs=$1 archive=$2 ref=$3 ctr rc=0
  shift 3
  ensure_pkg buildah buildah
  mkdir -p "$(dirname "$archive")" "$BUILDAH_ROOT"
  ctr=$(bah from --quiet scratch)
  {
    bah copy --quiet "$ctr" "$rootfs/" / >/dev/null &&
      bah config "$@" "$ctr" &&
      rm -f "$archive.tmp" &&
      bah commit --quiet --format oci --disable-compression=false --timestamp "$(source_epoch)" --rm "$ctr" \
        "oci-archive:$archive.tmp:$ref" >/dev/null &&
      mv -f "$archive.tmp" "$archive"
  } || rc=$?
  if [ $rc != 0 ]; then
    bah rm "$ctr" >/dev/null 2>&1 || true
    rm -f "$archive.tmp"
    return $rc
  fi
}

# add_passwd ROOTFS: /etc/passwd and /etc/group with root and the non-root user 65532 (as
# distroless names it), and nsswitch.conf so name lookups read /etc/hosts before DNS.
add_passwd() {
  mkdir -p "$1/etc"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$1/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$1/etc/group"
  printf '%s\n' 'hosts: files dns' >"$1/etc/nsswitch.conf"
  chmod 0644 "$1/etc/passwd" "$1/etc/group" "$1/etc/nsswitch.conf"
}
