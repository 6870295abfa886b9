#!/usr/bin/env bash
# Runs tests/tools/om_validate.py (OpenMetadata's own config template and pydantic models) in a
# cached virtualenv, creating it on first use. Arguments go to om_validate.py.
# The offline tests call this in parallel: on an empty cache one call creates the virtualenv (and
# om_validate.py unpacks the models) while the others wait for it, instead of deleting each other's
# half-made one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/cache.sh
. "$root/scripts/lib/cache.sh"
venv="$CACHE_ROOT/py-omv-pydantic-2.14.3"

venv_ready() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pydantic, yaml, email_validator' 2>/dev/null; }

make_venv() {
  venv_ready && return 0
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'pydantic[email]==2.14.3' 'pyyaml==6.0.3' >&2
}

venv_ready || with_cache_lock py-omv make_venv
export OMV_CACHE="$CACHE_ROOT/omv"
exec "$venv/bin/python" "$root/tests/tools/om_validate.py" "$@"
