#!/usr/bin/env bash
# Lets the real node's pods (those on the pod network, not hostNetwork) reach a process that listens
# on the host's loopback only, e.g. the test OIDC provider on 127.0.0.1:PORT: a DNAT rule sends
# POD_GATEWAY:PORT (the pod bridge's address, 10.199.0.1 by default; $CLUSTER_DIR/node/env has it)
# to 127.0.0.1:PORT, for TCP from the bridge only. Pods then use http(s)://POD_GATEWAY:PORT (a TLS
# server's certificate must name that address, or the client must be told the name it expects).
#   scripts/node/expose-host-port.sh PORT...            expose (idempotent); prints POD_GATEWAY:PORT
#   scripts/node/expose-host-port.sh --remove PORT...   stop exposing (idempotent)
#   scripts/node/expose-host-port.sh --list             the exposed ports
# The rules live in the node's DNAT chain (scripts/lib/node-network.sh): they survive a restart of the
# node by up.sh, and scripts/node/down.sh removes them all. Needs root and the node's network up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/node.sh
. "$here/../lib/node.sh"
# shellcheck source=../lib/node-network.sh
. "$here/../lib/node-network.sh"

mode=add ports=()
for arg in "$@"; do
  case $arg in
    --remove) mode=remove ;;
    --list) mode=list ;;
    -h | --help)
      print_usage
      exit 0
      ;;
    *)
      if ! [[ $arg =~ ^[0-9]+$ ]] || [ "$arg" -lt 1 ] || [ "$arg" -gt 65535 ]; then
        nlog "not a TCP port: $arg"
        exit 2
      fi
      ports+=("$arg")
      ;;
  esac
done
[ $mode = list ] || [ ${#ports[@]} -gt 0 ] || {
  print_usage >&2
  exit 2
}
[ "$(id -u)" = 0 ] || {
  nlog "must run as root (iptables)"
  exit 1
}

if [ ! -d "$NODE_DIR" ]; then
  [ $mode = add ] || exit 0 # nothing exposed
  nlog "no node here ($NODE_DIR): scripts/node/up.sh"
  exit 1
fi
lock_node # not while up.sh rebuilds the chain or down.sh removes it
if ! net_load_state || ! ipt -t nat -S "$NET_CHAIN_PREFIX-DNAT" >/dev/null 2>&1; then
  if [ $mode = add ]; then
    nlog "the node's pod network is not set up (scripts/node/up.sh)"
    exit 1
  fi
  exit 0 # nothing exposed
fi

case $mode in
  list)
    for p in $(net_exposed_ports); do echo "$POD_GATEWAY:$p -> 127.0.0.1:$p"; done
    ;;
  add)
    for p in "${ports[@]}"; do
      [ "$p" != "$NET_APISERVER_PORT" ] || nlog "note: port $p is the apiserver's; pods normally use the kubernetes Service"
      # shellcheck disable=SC2046 # the rule's words
      ipt -t nat -C "$NET_CHAIN_PREFIX-DNAT" $(net_expose_rule "$p") 2>/dev/null ||
        ipt -t nat -A "$NET_CHAIN_PREFIX-DNAT" $(net_expose_rule "$p")
      nlog "pods reach 127.0.0.1:$p at $POD_GATEWAY:$p"
      echo "$POD_GATEWAY:$p"
    done
    ;;
  remove)
    for p in "${ports[@]}"; do
      # shellcheck disable=SC2046 # the rule's words
      while ipt -t nat -C "$NET_CHAIN_PREFIX-DNAT" $(net_expose_rule "$p") 2>/dev/null; do
        ipt -t nat -D "$NET_CHAIN_PREFIX-DNAT" $(net_expose_rule "$p")
      done
      nlog "127.0.0.1:$p is no longer exposed to pods"
    done
    ;;
esac
