#!/usr/bin/env bash
# Runs shellcheck on every shell script in the repository (warnings and errors fail; sourced files are
# followed). Installs shellcheck from Debian when a fresh machine lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v shellcheck >/dev/null; then
  echo "installing shellcheck (apt-get)" >&2
  apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq shellcheck; }
fi
git ls-files -z --cached --others --exclude-standard '*.sh' | xargs -0 shellcheck -x -P SCRIPTDIR -S warning
