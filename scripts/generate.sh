#!/usr/bin/env bash
# Regenerates the files derived from the Rust types: crds/oidcssoconfig.yaml, the chart's copy
# of it, and docs/reasons.md (the reference of status reasons). With --check, writes nothing and fails when a committed file differs (CI drift check).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check=0
[ "${1:-}" = --check ] && check=1

crd=$(cargo run --quiet -- crd)
reasons=$(cargo run --quiet -- reasons)
# The chart's copy is a Helm template: a literal "{{" (in a field's doc comment, say) would be
# read as template code and the copy would no longer equal crds/.
if printf '%s' "$crd" | grep -q '{{'; then
  echo "the CRD contains '{{', which Helm would evaluate in the chart's copy; reword the doc comment" >&2
  exit 1
fi
chart_crd=$(
  printf '%s\n' '{{- if .Values.crds.install }}'
  printf '%s\n' '# Generated from crds/oidcssoconfig.yaml by scripts/generate.sh; do not edit.'
  printf '%s\n' "$crd" | sed '/^metadata:$/a\  annotations:\n    helm.sh/resource-policy: keep'
  printf '%s\n' '{{- end }}'
)

status=0
emit() { # path content
  if [ $check = 1 ]; then
    if [ "$(cat "$1" 2>/dev/null)" != "$2" ]; then
      echo "$1 is out of date: run scripts/generate.sh (make generate) and commit it" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$1")"
    printf '%s\n' "$2" >"$1"
  fi
}
emit crds/oidcssoconfig.yaml "$crd"
emit docs/reasons.md "$reasons"
if [ -d charts/oidc-sso-operator ]; then
  emit charts/oidc-sso-operator/templates/crds.yaml "$chart_crd"
fi
exit $status
