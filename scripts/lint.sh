#!/usr/bin/env bash
# Every lint step, the one list `make lint` and `make test` (scripts/test.sh) run: formatting,
# clippy, the benchmark harness, rustdoc, import cycles, shell scripts, the supply chain, the pins
# built on demand, generated files, and the chart (helm lint --strict). Installs what a fresh
# machine lacks (shellcheck, shfmt, cargo-deny, helm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "clippy (the operator with every test binary, and the test kit)"
cargo clippy --all-targets --features e2e,providers -- -D warnings
cargo clippy -p oidc-sso-testkit --all-targets -- -D warnings

step "benchmark harness (rustfmt, clippy)"
scripts/lint-harness.sh

step "rustdoc (broken links and missing docs fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

step "no import cycle between the library's modules"
scripts/lint-imports.py

step "shell scripts (shellcheck at info, shfmt)"
scripts/lint-shell.sh

step "supply chain (cargo deny: licenses, bans, sources; advisories where the database is reachable)"
scripts/deny.sh

step "pinned releases the scripts build on demand still resolve (Go module proxy)"
scripts/bench/check-pins.sh

step "generated files are up to date"
scripts/generate.sh --check

step "the chart (helm lint --strict)"
scripts/cluster/build.sh helm
eval "$(scripts/cluster/env.sh 2>/dev/null)"
helm lint --strict charts/oidc-sso-operator
# The opt-in templates render only when asked for.
helm lint --strict charts/oidc-sso-operator --set serviceMonitor.enabled=true \
  --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true
