#!/usr/bin/env bash
# Builds the OpenMetadata server stand-in (scripts/image/omserver: not OpenMetadata; a static Go
# program that answers /api/v1/system/{version,config/jwks,config/auth,health} as the server does
# and keeps its authentication settings where the release it plays keeps them; see its README.md)
# as OCI images FROM scratch, without a Docker engine, one per OpenMetadata release it plays:
#   target/image/om-standin-<release>.oci.tar   image reference oidc-sso-om-standin:<release>
# with OM_STANDIN_VERSION=<release> in the image's environment, so the tag says what the pod
# plays (the operator's proof reads a release from the image tag before a pod answers).
# Releases: OM_STANDIN_RELEASES (default "1.9.4 1.13.1 2.0.10 2.1.0"). Prints each archive's
# path and reference, two lines per image.
# Layout, as OpenMetadata's image: /opt/openmetadata/bin/om-standin (entrypoint, the server),
# /opt/openmetadata/bootstrap/openmetadata-ops.sh (a link to the same binary, which then acts as
# the operations CLI: `remove-security-config [--force]`, `migrate`), /opt/openmetadata/conf/
# openmetadata.yaml (the authentication blocks of OpenMetadata's template, copied from
# ../shared/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml at build time) and
# conf/{private,public}_key.der (a key pair generated once per machine, standing for the one
# OpenMetadata's image ships). User 65532:65532, working directory /opt/openmetadata.
#   scripts/image/build-om-standin.sh --binary   builds only the host binary (for the offline
#                                                tests) into target/om-standin/ when its sources
#                                                changed, and prints its path
# Environment: IMAGE_OUT_DIR (default target/image), SOURCE_DATE_EPOCH, OM_STANDIN_RELEASES.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/image.sh
. "$here/../lib/image.sh"

src=$here/omserver
mode=image
if [ "${1:-}" = --binary ]; then mode=binary; else only_help ilog "${1:-}"; fi

command -v go >/dev/null || {
  ilog "go not found on PATH (Go 1.25+ is needed to build the OpenMetadata stand-in)"
  exit 1
}
version=$(crate_version)

# go_build OUT: the static binary (the Go module proxy provides pgx and yaml.v3; go.sum pins them).
go_build() {
  (cd "$src" &&
    GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=$version -X main.buildTime=$(source_epoch)000" -o "$1" .)
}

if [ $mode = binary ]; then
  out=$repo/target/om-standin
  mkdir -p "$out"
  # One build at a time (parallel tests ask at once); a waiter finds it built.
  exec 9>"$out/.lock"
  flock 9
  sum=$(cd "$src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)
  if [ ! -x "$out/om-standin" ] || [ "$(cat "$out/.sources" 2>/dev/null)" != "$sum-$version" ]; then
    ilog "building the OpenMetadata stand-in (host binary)"
    go_build "$out/om-standin.tmp" 9>&-
    mv -f "$out/om-standin.tmp" "$out/om-standin"
    echo "$sum-$version" >"$out/.sources"
  fi
  echo "$out/om-standin"
  exit 0
fi

template=$repo/../shared/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml
[ -f "$template" ] || {
  ilog "missing $template: the shared/ folder must sit next to the repository"
  exit 1
}
command -v openssl >/dev/null || {
  ilog "openssl not found on PATH"
  exit 1
}
started=$(date +%s)

# The image's own key pair, generated once and kept, so rebuilding gives the same image.
keys=$IMAGE_OUT_DIR/om-standin-default-keys
if [ ! -s "$keys/public_key.der" ]; then
  mkdir -p "$keys"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/key.pem" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$keys/key.pem" -outform DER -out "$keys/private_key.der"
  openssl pkey -in "$keys/key.pem" -pubout -outform DER -out "$keys/public_key.der.tmp"
  rm -f "$keys/key.pem"
  mv -f "$keys/public_key.der.tmp" "$keys/public_key.der"
fi

stage=$IMAGE_OUT_DIR/.rootfs-om-standin
rm -rf "$stage"
mkdir -p "$stage/opt/openmetadata/bin" "$stage/opt/openmetadata/bootstrap" "$stage/opt/openmetadata/conf"
go_build "$stage/opt/openmetadata/bin/om-standin"
chmod 0755 "$stage/opt/openmetadata/bin/om-standin"
ln -s ../bin/om-standin "$stage/opt/openmetadata/bootstrap/openmetadata-ops.sh"
install -m 0644 "$template" "$stage/opt/openmetadata/conf/openmetadata.yaml"
install -m 0644 "$keys/private_key.der" "$keys/public_key.der" "$stage/opt/openmetadata/conf/"
add_passwd "$stage"

for release in ${OM_STANDIN_RELEASES:-1.9.4 1.13.1 2.0.10 2.1.0}; do
  ref=oidc-sso-om-standin:$release
  archive=$IMAGE_OUT_DIR/om-standin-$release.oci.tar
  # A file of its own in each image's layer: containerd's CRI image store keeps one image per
  # layer chain, so images that differ only in their configuration would hide each other from
  # the kubelet (ErrImageNeverPull for all but one, seen on the real node).
  printf '%s\n' "$release" >"$stage/opt/openmetadata/release"
  scratch_image "$stage" "$archive" "$ref" \
    --user 65532:65532 \
    --env "OM_STANDIN_VERSION=$release" \
    --entrypoint '["/opt/openmetadata/bin/om-standin"]' --cmd '["/opt/openmetadata/conf/openmetadata.yaml"]' \
    --workingdir /opt/openmetadata \
    --port 8585 --port 8586 \
    --label org.opencontainers.image.title=oidc-sso-om-standin \
    --label "org.opencontainers.image.description=Not OpenMetadata: a stand-in for OpenMetadata $release's authentication endpoints, for oidc-sso-operator's tests" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$(git_revision)"
  ilog "wrote $archive ($(du -h "$archive" | cut -f1))"
  echo "$archive"
  echo "$ref"
done
rm -rf "$stage"
ilog "built the OpenMetadata stand-in images in $(($(date +%s) - started))s"
