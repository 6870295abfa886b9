#!/usr/bin/env bash
# The release artifacts of the version in Cargo.toml (`make release`), in target/release-artifacts/:
#   oidc-sso-operator-<v>.oci.tar        the image (scripts/image/build.sh, release profile), reference
#                                        oidc-sso-operator:<v>; push it with skopeo or buildah (docs/install.md)
#   oidc-sso-operator-<v>.tgz            the chart (helm package), version and appVersion <v>, so its
#                                        default image is oidc-sso-operator:<v>
#   oidc-sso-operator-crds-<v>.yaml      the CRD bundle (crds/*.yaml), for `kubectl apply --server-side -f`
#   oidc-sso-operator-<v>.cdx.json       CycloneDX SBOM of the binary's crates (scripts/release/sbom.py)
#   SHA256SUMS                           sha256sum of the four
# Refuses to package when Chart.yaml's version or appVersion differs from Cargo.toml's version, or
# when CHANGELOG.md has no section for it, and checks the packaged chart renders the image's tag.
# Environment: IMAGE_PROFILE (default release: fat LTO, about 15 min from scratch on 2 cores),
# OPERATOR_BIN (package a built binary), RELEASE_DIR (default target/release-artifacts), HELM.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/versions.sh
. "$here/../lib/versions.sh"
# shellcheck source=../lib/image.sh
. "$here/../lib/image.sh"
only_help err "${1:-}"

rlog() { printf '[release] %s\n' "$*" >&2; }
fail() {
  rlog "$*"
  exit 1
}
t0=$(date +%s)
cd "$repo"

# 1. One version everywhere: Cargo.toml is the source, Chart.yaml and CHANGELOG.md must agree.
version=$(crate_version)
[ -n "$version" ] || fail "no [package] version in Cargo.toml"
chart=charts/oidc-sso-operator
chart_field() { awk -v k="$1:" '$1 == k { v = $2; gsub(/"/, "", v); print v; exit }' "$chart/Chart.yaml"; }
chart_version=$(chart_field version)
app_version=$(chart_field appVersion)
if [ "$chart_version" != "$version" ] || [ "$app_version" != "$version" ]; then
  fail "version mismatch: Cargo.toml $version, $chart/Chart.yaml version $chart_version appVersion $app_version; set all three to the release's version"
fi
grep -q "^## \[$version\]" CHANGELOG.md || fail "CHANGELOG.md has no '## [$version]' section"
rlog "version $version (Cargo.toml, Chart.yaml version and appVersion, CHANGELOG.md)"

out=${RELEASE_DIR:-$repo/target/release-artifacts}
rm -rf "$out"
mkdir -p "$out"
if [ -z "${HELM:-}" ]; then
  "$repo/scripts/cluster/build.sh" helm >/dev/null # built once, cached
fi
helm=${HELM:-$(helm_bin_dir)/helm}
[ -x "$helm" ] || fail "helm not found ($helm)"

# 2. The image (its reference is oidc-sso-operator:<version>).
image=$(IMAGE_PROFILE=${IMAGE_PROFILE:-release} IMAGE_OUT_DIR="$out" IMAGE_TAG="$version" scripts/image/build.sh | sed -n 1p)
ref=$(tar -xOf "$image" index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])')
[ "$ref" = "oidc-sso-operator:$version" ] || fail "$image names $ref, not oidc-sso-operator:$version"

# 3. The chart, and what it renders by default: the image just built.
"$helm" lint --strict "$chart" >/dev/null
"$helm" package "$chart" --destination "$out" >/dev/null
packaged=$out/oidc-sso-operator-$version.tgz
[ -f "$packaged" ] || fail "helm package did not write $packaged"
rendered=$("$helm" template release-check "$packaged" --namespace release-check |
  awk '$1 == "image:" { gsub(/"/, "", $2); print $2 }' | sort -u)
[ "$rendered" = "$ref" ] || fail "the packaged chart's default image is '$rendered', not $ref"

# 4. The CRD bundle and the SBOM.
crds=$out/oidc-sso-operator-crds-$version.yaml
first=1
for f in crds/*.yaml; do
  [ $first = 1 ] || echo "---"
  first=0
  cat "$f"
done >"$crds"
python3 scripts/release/sbom.py --output "$out/oidc-sso-operator-$version.cdx.json"

# 5. Checksums.
(cd "$out" && sha256sum -- *.oci.tar *.tgz *.yaml *.cdx.json >SHA256SUMS)
rlog "wrote $out in $(($(date +%s) - t0))s:"
(cd "$out" && ls -l -- *.oci.tar *.tgz *.yaml *.cdx.json SHA256SUMS) >&2
echo "$out"
