# shellcheck shell=bash disable=SC2034 # sourced: the variables are used by the scripts that source it
# Pod networking of the local real node, shared by scripts/node/{up,down,expose-host-port}.sh.
# Sourced after node.sh; net_up also expects kc (cluster.sh) to reach the apiserver, with $KUBECTL
# set. Nothing here routes a packet off this machine:
#   - pods sit on a bridge of their own ($POD_BRIDGE, default oidcsso0) with host-local IPAM on
#     $POD_CIDR (default 10.199.0.0/24, the node's podCIDR); the bridge holds the gateway address
#     (.1) and is connected to nothing else. The CNI bridge plugin runs with isGateway false, so it
#     never turns on net.ipv4.ip_forward: a packet from a pod to anything but the bridge's subnet or
#     the host's own addresses is dropped by the kernel (and by a FORWARD rule should forwarding be
#     on for other reasons). No masquerading.
#   - the `kubernetes` Service (10.96.0.1:443) is DNATed to the apiserver on 127.0.0.1:<port>, for
#     traffic from the bridge (PREROUTING) and from the host itself (OUTPUT: hostNetwork pods), with
#     net.ipv4.conf.$POD_BRIDGE.route_localnet=1 so the kernel accepts 127.0.0.1 as a destination
#     of packets from the bridge. Only DNATed packets reach 127.0.0.0/8 from the bridge: everything
#     else addressed there is dropped (the rule the kubelet's KUBE-FIREWALL chain would add; the
#     kubelet runs with makeIPTablesUtilChains: false and adds no rules of its own).
#   - scripts/node/expose-host-port.sh PORT adds $POD_GATEWAY:PORT -> 127.0.0.1:PORT the same way.
# Every rule lives in chains of our own (${NET_CHAIN_PREFIX}-{DNAT,INPUT,FORWARD}), entered by one
# jump rule each; down.sh deletes the jumps, the chains and the bridge (its per-interface sysctls go
# with it). What up.sh set up is recorded in $NET_STATE, and down.sh undoes exactly that.

POD_BRIDGE=${POD_BRIDGE:-oidcsso0}
POD_CIDR=${POD_CIDR:-10.199.0.0/24}
NET_WANT_BRIDGE=$POD_BRIDGE NET_WANT_CIDR=$POD_CIDR # what up.sh asks for (net_load_state overrides)
# The control plane's --service-cluster-ip-range and its first address (the `kubernetes` Service).
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1
CNI_NETWORK_NAME=oidcsso-pods
CNI_CONF_DIR=$NODE_DIR/cni/net.d
CNI_CONFLIST=$CNI_CONF_DIR/10-$CNI_NETWORK_NAME.conflist
IPAM_DIR=$NODE_DIR/cni/ipam # host-local's leases (instead of /var/lib/cni/networks)
# libcni (in containerd) caches each ADD's result here (not configurable), for our network and for the
# pods' loopback ("cni-loopback"); ours are those whose network namespace is below $NODE_DIR.
CNI_CACHE_DIR=/var/lib/cni/results
NET_STATE=$NODE_DIR/network.env

# The chain prefix follows the bridge name, so that two differently named node networks never share
# chains: oidcsso0 -> OIDCSSO0-DNAT, OIDCSSO0-INPUT, OIDCSSO0-FORWARD.
net_chain_prefix() { tr '[:lower:]' '[:upper:]' <<<"$1" | tr -c 'A-Z0-9\n' '-'; }
NET_CHAIN_PREFIX=$(net_chain_prefix "$POD_BRIDGE")

ipt() { iptables -w 10 "$@"; }

# cidr_info CIDR: prints "NETWORK/PREFIX GATEWAY" (the gateway is the first address), or fails.
cidr_info() {
  python3 - "$1" <<'PY'
import ipaddress, sys
n = ipaddress.ip_network(sys.argv[1], strict=True)
if n.version != 4 or not n.is_private or n.prefixlen > 28:
    sys.exit(f"{n}: want a private IPv4 range of at least 16 addresses")
print(n, n.network_address + 1)
PY
}

# net_overlaps CIDR OTHER...: prints each OTHER network that overlaps CIDR.
net_overlaps() {
  python3 - "$@" <<'PY'
import ipaddress, sys
mine = ipaddress.ip_network(sys.argv[1])
for o in sys.argv[2:]:
    try:
        n = ipaddress.ip_network(o, strict=False)
    except ValueError:
        continue
    if n.version == 4 and n.prefixlen > 0 and n.overlaps(mine):
        print(o)
PY
}

# net_load_state: the recorded network of a node up.sh set up (fails when there is none).
net_load_state() {
  [ -f "$NET_STATE" ] || return 1
  # shellcheck disable=SC1090 # written by net_up
  . "$NET_STATE"
  NET_CHAIN_PREFIX=$(net_chain_prefix "$POD_BRIDGE")
}

# net_bridge_is_ours: the bridge exists and carries the gateway address we recorded.
net_bridge_is_ours() {
  ip -o -4 addr show dev "$POD_BRIDGE" 2>/dev/null | grep -qF " $POD_GATEWAY/${POD_CIDR#*/} "
}

# Our chains, "TABLE CHAIN" per line.
net_chains() {
  printf '%s\n' "nat $NET_CHAIN_PREFIX-DNAT" "filter $NET_CHAIN_PREFIX-INPUT" "filter $NET_CHAIN_PREFIX-FORWARD"
}
# The jumps into them, "TABLE BUILTIN MATCH..." per line (each inserted first in its built-in chain).
net_jumps() {
  printf '%s\n' "nat PREROUTING -i $POD_BRIDGE" "nat OUTPUT -d $KUBERNETES_SERVICE_IP/32" \
    "filter INPUT -i $POD_BRIDGE" "filter FORWARD"
}
net_jump_target() {
  case $1/$2 in
    nat/*) echo "$NET_CHAIN_PREFIX-DNAT" ;;
    filter/INPUT) echo "$NET_CHAIN_PREFIX-INPUT" ;;
    filter/FORWARD) echo "$NET_CHAIN_PREFIX-FORWARD" ;;
  esac
}

# The host ports exposed to pods (scripts/node/expose-host-port.sh), from the DNAT chain's comments.
net_exposed_ports() {
  ipt -t nat -S "$NET_CHAIN_PREFIX-DNAT" 2>/dev/null | sed -n 's/.*--comment expose-host-port-\([0-9]*\) .*/\1/p'
}
net_expose_rule() { # PORT: the rule's arguments (after the chain)
  echo "-d $POD_GATEWAY/32 -p tcp -m tcp --dport $1 -m comment --comment expose-host-port-$1 -j DNAT --to-destination 127.0.0.1:$1"
}

# net_up APISERVER_PORT: the bridge, its sysctls, the rules and the CNI config. Idempotent; keeps the
# host ports exposed before (a restart of the node does not lose them).
net_up() {
  local apiserver_port=$1 info others line kwok_pid
  command -v iptables >/dev/null || {
    nlog "missing iptables"
    return 1
  }
  command -v ip >/dev/null || {
    nlog "missing ip (iproute2)"
    return 1
  }
  [ ${#NET_WANT_BRIDGE} -le 15 ] || {
    nlog "POD_BRIDGE=$NET_WANT_BRIDGE: longer than 15 characters"
    return 1
  }
  info=$(cidr_info "$NET_WANT_CIDR") || {
    nlog "POD_CIDR=$NET_WANT_CIDR is not usable"
    return 1
  }

  # A network recorded by an earlier up must be the same one (down.sh removes it first otherwise).
  if net_load_state && { [ "$POD_BRIDGE" != "$NET_WANT_BRIDGE" ] || [ "$POD_CIDR" != "${info% *}" ]; }; then
    nlog "the node's network was set up as $POD_BRIDGE $POD_CIDR, not $NET_WANT_BRIDGE ${info% *}: run scripts/node/down.sh first"
    return 1
  fi
  POD_BRIDGE=$NET_WANT_BRIDGE
  NET_CHAIN_PREFIX=$(net_chain_prefix "$POD_BRIDGE")
  POD_CIDR=${info% *}
  POD_GATEWAY=${info#* }
  if [ ! -f "$NET_STATE" ] && ip link show dev "$POD_BRIDGE" >/dev/null 2>&1; then
    nlog "an interface $POD_BRIDGE exists that scripts/node/up.sh did not record in $NET_STATE; not touching it"
    nlog "(remove it, or choose another POD_BRIDGE)"
    return 1
  fi

  # The range must not collide with this host's routes and addresses, the Service range, other
  # nodes' podCIDRs (kwok's fake node) or the range kwok hands out pod IPs from.
  others="$(ip -o -4 route show table all | awk -v b="$POD_BRIDGE" '
    { for (i = 1; i < NF; i++) if ($i == "dev" && $(i + 1) == b) next }
    { print $1 == "local" || $1 == "broadcast" || $1 == "unicast" ? $2 : $1 }' | tr '\n' ' ')"
  others="$others $(ip -o -4 addr show | awk -v b="$POD_BRIDGE" '$2 != b { print $4 }' | tr '\n' ' ') $SERVICE_CIDR"
  others="$others $(kc get nodes -o jsonpath="{range .items[?(@.metadata.name!='$NODE_NAME')]}{.spec.podCIDR}{' '}{end}" 2>/dev/null || true)"
  if kwok_pid=$(live_pid kwok 2>/dev/null); then
    others="$others $(tr '\0' '\n' <"/proc/$kwok_pid/cmdline" | sed -n 's/^--cidr=//p')"
  fi
  # shellcheck disable=SC2086 # a list of networks
  line=$(net_overlaps "$POD_CIDR" $others | sort -u | tr '\n' ' ')
  if [ -n "$line" ]; then
    nlog "POD_CIDR=$POD_CIDR overlaps what is in use here: $line(choose another POD_CIDR)"
    return 1
  fi
  # The Node's podCIDR is set once (the API refuses to change it): it must be ours.
  line=$(kc get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
  if [ -n "$line" ] && [ "$line" != "$POD_CIDR" ]; then
    nlog "Node $NODE_NAME has podCIDR $line, not POD_CIDR=$POD_CIDR: scripts/node/down.sh --purge deletes the Node"
    return 1
  fi

  {
    echo "# Written by scripts/node/up.sh: the node's pod network; scripts/node/down.sh removes it."
    echo "POD_BRIDGE='$POD_BRIDGE'"
    echo "POD_CIDR='$POD_CIDR'"
    echo "POD_GATEWAY='$POD_GATEWAY'"
    echo "NET_APISERVER_PORT='$apiserver_port'"
  } >"$NET_STATE"

  # 1. The bridge, with the gateway address; 127.0.0.1 accepted as a destination from it.
  if ! ip link show dev "$POD_BRIDGE" >/dev/null 2>&1; then
    ip link add name "$POD_BRIDGE" type bridge
  fi
  net_bridge_is_ours || ip addr add "$POD_GATEWAY/${POD_CIDR#*/}" dev "$POD_BRIDGE"
  ip link set dev "$POD_BRIDGE" up
  echo 1 >"/proc/sys/net/ipv4/conf/$POD_BRIDGE/route_localnet"

  # 2. Rules: our chains (the DNAT chain rebuilt, keeping the exposed ports), then the jumps.
  local ports p table chain builtin match
  ports=$(net_exposed_ports || true)
  while read -r table chain; do
    ipt -t "$table" -N "$chain" 2>/dev/null || ipt -t "$table" -F "$chain"
  done < <(net_chains)
  ipt -t nat -A "$NET_CHAIN_PREFIX-DNAT" -d "$KUBERNETES_SERVICE_IP/32" -p tcp -m tcp --dport 443 \
    -m comment --comment "default/kubernetes:https -> kube-apiserver" -j DNAT --to-destination "127.0.0.1:$apiserver_port"
  for p in $ports; do
    # shellcheck disable=SC2046 # the rule's words
    ipt -t nat -A "$NET_CHAIN_PREFIX-DNAT" $(net_expose_rule "$p")
  done
  ipt -A "$NET_CHAIN_PREFIX-INPUT" -d 127.0.0.0/8 -m comment --comment "only DNATed connections reach the loopback" \
    -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
  ipt -A "$NET_CHAIN_PREFIX-FORWARD" -i "$POD_BRIDGE" ! -o "$POD_BRIDGE" -m comment --comment "pods stay on this host" -j DROP
  ipt -A "$NET_CHAIN_PREFIX-FORWARD" ! -i "$POD_BRIDGE" -o "$POD_BRIDGE" -m comment --comment "pods stay on this host" -j DROP
  while read -r table builtin match; do
    chain=$(net_jump_target "$table" "$builtin")
    # shellcheck disable=SC2086 # $match: the match's words
    ipt -t "$table" -C "$builtin" $match -j "$chain" 2>/dev/null || ipt -t "$table" -I "$builtin" 1 $match -j "$chain"
  done < <(net_jumps)

  # 3. The CNI network containerd uses (its only one: max_conf_num = 1).
  mkdir -p "$CNI_CONF_DIR" "$IPAM_DIR"
  find "$CNI_CONF_DIR" -maxdepth 1 -type f ! -name "$(basename "$CNI_CONFLIST")" -delete
  cat >"$CNI_CONFLIST.tmp" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "$IPAM_DIR",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  mv -f "$CNI_CONFLIST.tmp" "$CNI_CONFLIST"
}

# net_down: undoes net_up (as recorded in $NET_STATE): veths left on the bridge, the bridge (and its
# sysctls), the jumps and chains, host-local's leases and libcni's cached results of our network.
# Idempotent; quiet when there is nothing to do. A step that fails is reported and the others still
# run; the record is then kept, so that the next down.sh tries again.
net_down() {
  net_load_state || return 0
  local link n=0 ok=1 table chain builtin match
  if net_bridge_is_ours; then
    # Pods' veths go with their network namespaces; any left (a namespace still held) go here.
    while read -r link; do
      [ -n "$link" ] || continue
      ip link delete dev "$link" 2>/dev/null && n=$((n + 1))
    done < <(ip -o link show master "$POD_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
    ip link delete dev "$POD_BRIDGE" || ok=0
    nlog "removed bridge $POD_BRIDGE ($POD_CIDR)$([ $n = 0 ] || echo ", $n leftover veth(s)")"
  elif ip link show dev "$POD_BRIDGE" >/dev/null 2>&1; then
    nlog "warning: $POD_BRIDGE no longer carries $POD_GATEWAY; not deleting it"
  fi
  while read -r table builtin match; do
    chain=$(net_jump_target "$table" "$builtin")
    # shellcheck disable=SC2086 # $match: the match's words
    while ipt -t "$table" -C "$builtin" $match -j "$chain" 2>/dev/null; do
      ipt -t "$table" -D "$builtin" $match -j "$chain" || {
        ok=0
        break
      }
    done
  done < <(net_jumps)
  while read -r table chain; do
    if ipt -t "$table" -S "$chain" >/dev/null 2>&1; then
      ipt -t "$table" -F "$chain" && ipt -t "$table" -X "$chain" || ok=0
    fi
  done < <(net_chains)
  nlog "removed iptables chains $NET_CHAIN_PREFIX-{DNAT,INPUT,FORWARD} and their jumps"
  rm -rf "$IPAM_DIR"
  if [ -d "$CNI_CACHE_DIR" ]; then
    n=$(
      python3 - "$CNI_CACHE_DIR" "$NODE_DIR/" <<'PY'
import json, os, sys
d, ours, n = sys.argv[1], sys.argv[2], 0
for f in os.listdir(d):
    p = os.path.join(d, f)
    try:
        with open(p) as fh:
            netns = json.load(fh).get("netns", "")
    except (OSError, ValueError):
        continue
    if netns.startswith(ours):
        os.remove(p)
        n += 1
print(n)
PY
    ) || n=0
    [ "$n" = 0 ] || nlog "removed $n cached CNI result(s) from $CNI_CACHE_DIR"
    rmdir "$CNI_CACHE_DIR" /var/lib/cni 2>/dev/null || true
  fi
  if [ $ok = 1 ]; then
    rm -f "$NET_STATE"
  else
    nlog "warning: the pod network was not removed completely (kept $NET_STATE for another down.sh)"
  fi
  [ $ok = 1 ]
}
