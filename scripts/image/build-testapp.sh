#!/usr/bin/env bash
# Builds the end-to-end tests' target image without a Docker engine: the static Go program in
# scripts/image/testapp (CGO_ENABLED=0, local Go toolchain, standard library only), FROM scratch,
# user 65532:65532, ENTRYPOINT ["/testapp"]. It serves what its process sees (GET /env, /file?path=,
# /id, /healthz on 127.0.0.1:$PORT; see testapp/main.go). On the real node's pod network, give it
# TESTAPP_ADDR=0.0.0.0:8080 to answer on its pod IP (the default suits hostNetwork pods).
#   target/image/testapp-<version>.oci.tar   image reference oidc-sso-testapp:<version>
# (<version>: Cargo.toml's, like the operator image.) Prints the archive's path and the reference.
# Environment: IMAGE_OUT_DIR (default target/image), SOURCE_DATE_EPOCH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/image.sh
. "$here/../lib/image.sh"
only_help ilog "${1:-}"

command -v go >/dev/null || {
  ilog "go not found on PATH (Go 1.24+ is needed to build the test app)"
  exit 1
}
started=$(date +%s)
version=$(crate_version)
ref=oidc-sso-testapp:$version
archive=$IMAGE_OUT_DIR/testapp-$version.oci.tar
stage=$IMAGE_OUT_DIR/.rootfs-testapp
rm -rf "$stage"
mkdir -p "$stage"

(cd "$here/testapp" &&
  GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" \
    -o "$stage/testapp" .)
chmod 0755 "$stage/testapp"
add_passwd "$stage"

scratch_image "$stage" "$archive" "$ref" \
  --user 65532:65532 \
  --entrypoint '["/testapp"]' --cmd '[]' \
  --workingdir / \
  --label org.opencontainers.image.title=oidc-sso-testapp \
  --label "org.opencontainers.image.description=Test target for oidc-sso-operator's end-to-end suites: serves its environment and mounted files" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$(git_revision)"
rm -rf "$stage"

ilog "wrote $archive ($(du -h "$archive" | cut -f1)) in $(($(date +%s) - started))s"
echo "$archive"
echo "$ref"
