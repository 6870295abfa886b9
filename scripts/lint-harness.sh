#!/usr/bin/env bash
# Lints the benchmark harness (bench/harness, a cargo project of its own that `cargo clippy` in the
# operator's crate does not reach): rustfmt and clippy with warnings as errors. It resolves the
# operator's Cargo.lock (copied, as scripts/bench/run.sh does) and checks into the operator's
# target directory, so the dependencies the operator's clippy already checked are reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cp "$root/Cargo.lock" "$root/bench/harness/Cargo.lock"
cargo fmt --manifest-path "$root/bench/harness/Cargo.toml" -- --check
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target} \
  cargo clippy --manifest-path "$root/bench/harness/Cargo.toml" --all-targets -- -D warnings
