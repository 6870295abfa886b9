#!/usr/bin/env bash
# Installs the test OIDC provider's npm dependencies (oidc-provider 8.8.1, pinned by the committed
# package-lock.json) into tests/oidc-provider/node_modules with `npm ci`, and only when they are
# missing or were installed from a different lock file, so repeated test runs cost nothing.
# Safe to run concurrently (a lock serialises installs); works on a fresh clone.
# Usage: scripts/oidc/install-provider.sh [--force]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$here/../../tests/oidc-provider" && pwd)
stamp="$dir/node_modules/.oidc-sso-lock.sha256"

log() { printf '[oidc-provider] %s\n' "$*" >&2; }

command -v node >/dev/null || {
  log "node is not installed (Node 20 or later is needed)"
  exit 1
}
command -v npm >/dev/null || {
  log "npm is not installed"
  exit 1
}
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  log "node $(node --version) is too old: oidc-provider 8 needs Node 18 or later"
  exit 1
fi

want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
current() { cat "$stamp" 2>/dev/null || true; }

install() {
  if [ "${1:-}" != --force ] && [ "$(current)" = "$want" ] && [ -f "$dir/node_modules/oidc-provider/package.json" ]; then
    return 0
  fi
  log "npm ci in $dir"
  # --ignore-scripts: the provider needs no install hooks, and skipping them keeps the install
  # from running code beyond what the lock file pins.
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  printf '%s\n' "$want" >"$stamp"
}

if command -v flock >/dev/null; then
  # The lock lives outside the tree (node_modules is deleted by npm ci, and the tree stays clean),
  # keyed by the directory so two checkouts do not wait for each other.
  exec 9>"${TMPDIR:-/tmp}/oidc-sso-provider-install.$(printf '%s' "$dir" | sha256sum | cut -c1-16).lock"
  flock 9
fi
install "${1:-}"
