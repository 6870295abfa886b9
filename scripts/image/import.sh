#!/usr/bin/env bash
# Imports OCI archives (scripts/image/build*.sh, or any `oci-archive`) into the real node's containerd,
# in the k8s.io namespace the CRI plugin uses, unpacked for its snapshotter, so pods with
# imagePullPolicy: Never run them. Each image is named as the kubelet will ask for it: the archive's
# reference (org.opencontainers.image.ref.name), normalised like Docker does (oidc-sso-operator:0.1.0
# -> docker.io/library/oidc-sso-operator:0.1.0), so `image: oidc-sso-operator:0.1.0` finds it.
#   scripts/image/import.sh ARCHIVE...      (the node must be up: scripts/node/up.sh)
# Re-importing the same archive is cheap (content is deduplicated); a changed archive under the
# same reference replaces the old image (new pods get the new one).
set -euo pipefail
# shellcheck source=../lib/node.sh
. "$(dirname "$0")/../lib/node.sh"
need_args_or_help "$@"
nctr version >/dev/null 2>&1 || {
  nlog "containerd is not running on $CTRD_SOCK (scripts/node/up.sh)"
  exit 1
}

# normalize REF: Docker's rules (a first component with '.' or ':' or 'localhost' is a registry).
normalize() {
  local ref=$1 first rest
  first=${ref%%/*}
  if [ "$first" != "$ref" ] && { [[ $first == *.* ]] || [[ $first == *:* ]] || [ "$first" = localhost ]; }; then
    :
  elif [[ $ref == */* ]]; then
    ref=docker.io/$ref
  else
    ref=docker.io/library/$ref
  fi
  rest=${ref##*/}
  [[ $rest == *:* ]] || [[ $rest == *@* ]] || ref=$ref:latest
  echo "$ref"
}

for archive in "$@"; do
  [ -f "$archive" ] || {
    nlog "no such archive: $archive"
    exit 1
  }
  # The image's reference and manifest digest, from the archive's index.json.
  read -r ref digest < <(tar -xOf "$archive" index.json | python3 -c '
import json, sys
m = json.load(sys.stdin)["manifests"][0]
print(m.get("annotations", {}).get("org.opencontainers.image.ref.name", "-"), m["digest"])')
  if [ "$ref" = - ] || ! [[ $ref =~ [:/@] ]]; then
    nlog "$archive: its index.json must name the image as name:tag (org.opencontainers.image.ref.name), not '$ref'"
    exit 1
  fi
  name=$(normalize "$ref")
  if [ "$(nctr images ls 2>/dev/null | awk -v n="$name" '$1 == n { print $3 }')" = "$digest" ]; then
    nlog "$name: already imported ($digest)"
    continue
  fi
  # --local: unpacked by this client for the CRI plugin's snapshotter (the transfer service would
  # need an unpack platform per snapshotter). The import names the image as the archive does; the
  # kubelet asks for the normalised name, so it is retagged (the CRI plugin labels it as managed).
  nctr images import --local --snapshotter native "$archive" 2>&1 >/dev/null | grep -v 'DEPRECATION: The support for cgroup v1' >&2 || true
  [ "$(nctr images ls 2>/dev/null | awk -v n="$ref" '$1 == n { print $3 }')" = "$digest" ] ||
    {
      nlog "$archive: import failed ($ref not found with digest $digest)"
      exit 1
    }
  if [ "$ref" != "$name" ]; then
    nctr images tag --force "$ref" "$name" >/dev/null 2>&1
    nctr images rm "$ref" >/dev/null 2>&1
  fi
  nlog "imported $name ($digest) from $archive"
done
