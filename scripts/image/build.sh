#!/usr/bin/env bash
# Builds the operator's container image without a Docker engine (`make image`): buildah, vfs storage,
# FROM scratch, with exactly the files the binary needs:
#   /oidc-sso-operator                the binary (cargo build --release, or OPERATOR_BIN)
#   the shared libraries `ldd` lists   at the paths it lists, the dynamic loader at its own path
#   /etc/ssl/certs/ca-certificates.crt the CA bundle (provider checks against public issuers)
#   /etc/passwd, /etc/group            root and nonroot (65532), /etc/nsswitch.conf (hosts: files dns)
# configured like the Dockerfile's image (user 65532:65532, ENTRYPOINT ["/oidc-sso-operator"],
# CMD ["run"], org.opencontainers.image.* labels) and written as an OCI archive:
#   target/image/oidc-sso-operator-<version>.oci.tar   image reference oidc-sso-operator:<version>
# Prints the archive's path and the image reference (two lines on stdout).
#
# Environment:
#   OPERATOR_BIN    use this binary instead of building one
#   IMAGE_PROFILE   cargo profile to build with (default: release; CI may use a faster one)
#   IMAGE_OUT_DIR   where the archive goes (default: target/image)
#   IMAGE_NAME      image name (default: oidc-sso-operator), IMAGE_TAG (default: Cargo.toml version)
#   IMAGE_REVISION  the org.opencontainers.image.revision label (default: git rev-parse HEAD)
#   SOURCE_DATE_EPOCH  file and config timestamps (default: the commit time; same inputs, same digest)
# Needs root for buildah (installed with apt-get when missing).
set -euo pipefail
# shellcheck source=../lib/image.sh
. "$(dirname "$0")/../lib/image.sh"
only_help ilog "${1:-}"

started=$(date +%s)
version=$(crate_version)
[ -n "$version" ] || {
  ilog "no [package] version in $repo/Cargo.toml"
  exit 1
}
name=${IMAGE_NAME:-oidc-sso-operator}
tag=${IMAGE_TAG:-$version}
ref=$name:$tag
archive=$IMAGE_OUT_DIR/$name-$tag.oci.tar
revision=${IMAGE_REVISION:-$(git_revision)}

# 1. The binary.
if [ -n "${OPERATOR_BIN:-}" ]; then
  bin=$(realpath "$OPERATOR_BIN")
  [ -x "$bin" ] || {
    ilog "OPERATOR_BIN=$OPERATOR_BIN is not an executable file"
    exit 1
  }
else
  profile=${IMAGE_PROFILE:-release}
  case $profile in dev | test) pdir=debug ;; bench) pdir=release ;; *) pdir=$profile ;; esac
  target_dir=${CARGO_TARGET_DIR:-$repo/target}
  ilog "cargo build --profile $profile (the release profile has fat LTO: about 13 min from scratch on 2 cores)"
  (cd "$repo" && cargo build --locked --profile "$profile" --bin oidc-sso-operator)
  bin=$target_dir/$pdir/oidc-sso-operator
fi

# 2. The root filesystem: a fresh staging folder, copied into the image in one layer.
stage=$IMAGE_OUT_DIR/.rootfs-$name
rm -rf "$stage"
mkdir -p "$stage/etc/ssl/certs"
install -m 0755 "$bin" "$stage/oidc-sso-operator"
# `ldd` lists `name => /path (addr)` for each library and `/path/ld-linux*.so.N (addr)` for the
# loader; `statically linked` / `not a dynamic executable` for a static binary (nothing to copy).
# Each file is copied with its content under the listed path (symlinks resolved), so the loader and
# the default search path (/lib/<triplet>, /usr/lib/<triplet>) find them without an ld.so.cache.
libs=$(ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u) || true
if ldd "$bin" 2>&1 | grep -q 'not found'; then
  ilog "ldd reports missing libraries for $bin:"
  ldd "$bin" >&2
  exit 1
fi
for lib in $libs; do
  mkdir -p "$stage$(dirname "$lib")"
  install -m 0755 "$(realpath "$lib")" "$stage$lib"
done
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] || ensure_pkg update-ca-certificates ca-certificates
install -m 0644 "$ca" "$stage/etc/ssl/certs/ca-certificates.crt"
add_passwd "$stage"

# 3. The image.
ilog "packaging $ref ($(du -sh "$stage" | cut -f1) unpacked; libraries: ${libs//$'\n'/ })"
scratch_image "$stage" "$archive" "$ref" \
  --user 65532:65532 \
  --entrypoint '["/oidc-sso-operator"]' --cmd '["run"]' \
  --workingdir / \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --label org.opencontainers.image.title=oidc-sso-operator \
  --label "org.opencontainers.image.description=$(awk -F'"' '/^description *=/ { print $2; exit }' "$repo/Cargo.toml")" \
  --label org.opencontainers.image.source=https://github.com/oidc-sso-operator/oidc-sso-operator \
  --label "org.opencontainers.image.licenses=$(awk -F'"' '/^license *=/ { print $2; exit }' "$repo/Cargo.toml")" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision"
rm -rf "$stage"

ilog "wrote $archive ($(du -h "$archive" | cut -f1)) in $(($(date +%s) - started))s"
echo "$archive"
echo "$ref"
