#!/usr/bin/env bash
# Prints shell exports for using the local cluster by hand:
#   eval "$(scripts/cluster/env.sh)"     -> KUBECONFIG set, cached helm first on PATH
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=common.sh
. "$here/common.sh"

[ -f "$KUBECONFIG_PATH" ] || log "warning: $KUBECONFIG_PATH does not exist yet (run: make cluster-up)"
# shellcheck disable=SC2016 # $PATH is for the shell that evals this line
printf 'export KUBECONFIG=%q; export PATH=%q:"$PATH"\n' "$KUBECONFIG_PATH" "$(helm_bin_dir)"
