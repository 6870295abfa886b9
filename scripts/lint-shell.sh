#!/usr/bin/env bash
# Lints every shell script in the repository: shellcheck at severity info (sourced files are
# followed) and shfmt's formatting (2-space indent, indented case items: `shfmt -i 2 -ci`).
# Installs both from Debian when a fresh machine lacks them. `--fix` rewrites the formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in shellcheck shfmt; do
  if ! command -v "$tool" >/dev/null; then
    echo "installing $tool (apt-get)" >&2
    apt-get install -y -qq "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool"; }
  fi
done
mapfile -d '' scripts < <(git ls-files -z --cached --others --exclude-standard '*.sh')
shellcheck -x -P SCRIPTDIR -S info "${scripts[@]}"
if [ "${1:-}" = --fix ]; then
  shfmt -i 2 -ci -w "${scripts[@]}"
elif ! shfmt -i 2 -ci -d "${scripts[@]}"; then
  echo "shell scripts are not formatted: run scripts/lint-shell.sh --fix" >&2
  exit 1
fi
