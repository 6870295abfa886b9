#!/usr/bin/env bash
# Runs tests/tools/om_validate.py (OpenMetadata's own config template and pydantic models) in a
# cached virtualenv, creating it on first use. Arguments go to om_validate.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/cluster/lib.sh"
venv="$CACHE_ROOT/py-omv-pydantic-2.14.3"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pydantic, yaml, email_validator' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check 'pydantic[email]==2.14.3' 'pyyaml==6.0.3' >&2
fi
export OMV_CACHE="$CACHE_ROOT/omv"
exec "$venv/bin/python" "$root/tests/tools/om_validate.py" "$@"
