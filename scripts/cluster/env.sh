#!/usr/bin/env bash
# Prints shell exports for using the local cluster by hand:
#   eval "$(scripts/cluster/env.sh)"     -> KUBECONFIG set, cached helm first on PATH
set -euo pipefail
# shellcheck source=../lib/cluster.sh
. "$(dirname "$0")/../lib/cluster.sh"

[ -f "$KUBECONFIG_PATH" ] || log "warning: $KUBECONFIG_PATH does not exist yet (run: make cluster-up)"
# shellcheck disable=SC2016 # $PATH is for the shell that evals this line
printf 'export KUBECONFIG=%q; export PATH=%q:"$PATH"\n' "$KUBECONFIG_PATH" "$(helm_bin_dir)"
