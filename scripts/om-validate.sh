#!/usr/bin/env bash
# Runs tests/tools/om_validate.py (OpenMetadata's own config template and pydantic models) in a
# cached virtualenv, creating it on first use. Arguments go to om_validate.py.
# The offline tests call this in parallel: on an empty cache one call creates the virtualenv and
# unpacks OpenMetadata's models while the others wait for it, instead of deleting each other's
# half-made one. (om_validate.py is a copy of ../shared/tools/om_validate.py and stays unchanged:
# its own unpacking is not safe to run twice at once, so it runs here once, under the lock.)
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

tool=$root/tests/tools/om_validate.py
unpacked="$OMV_CACHE/.unpacked-$(sha256sum "$tool" | cut -c1-16)"
unpack_models() {
  [ -f "$unpacked" ] && return 0
  # A tree left half-unpacked by an interrupted run is unpacked again.
  rm -rf "$OMV_CACHE"
  "$venv/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import om_validate; om_validate.models_path()' \
    "$(dirname "$tool")" >&2
  touch "$unpacked"
}
[ -f "$unpacked" ] || with_cache_lock py-omv-models unpack_models
exec "$venv/bin/python" "$tool" "$@"
