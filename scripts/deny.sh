#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (deny.toml): licenses, banned crates, sources. Installs
# cargo-deny from crates.io when a fresh machine lacks it (a few minutes, once). The advisory check
# needs the RustSec database, which cargo-deny fetches from GitHub: it runs when that is reachable
# and is reported as not run (with the reason) when it is not.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deny >/dev/null; then
  echo "installing cargo-deny (cargo install --locked)" >&2
  cargo install cargo-deny --locked --quiet
fi
cargo deny --log-level error check licenses bans sources
if timeout 60 cargo deny --log-level error fetch db >/dev/null 2>&1; then
  cargo deny --log-level error check advisories
else
  echo "cargo deny: advisories NOT checked: the RustSec advisory database (github.com/rustsec/advisory-db) is not reachable from this machine" >&2
fi
