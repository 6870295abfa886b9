//! Which addresses the provider checks may connect to. Pure.
//!
//! Whoever may create an `OidcSsoConfig` chooses the URLs the operator fetches, with the
//! operator's network position: a cluster-internal service, the node's loopback, or a cloud
//! metadata endpoint (169.254.169.254, fd00:ec2::254, 100.100.100.200). So only public addresses
//! are allowed unless the operator's administrator lists networks (`--provider-allowed-networks`),
//! for example the cluster's service range for an in-cluster Keycloak. The decision is made on
//! every address a name resolves to, at connect time, so a DNS answer cannot steer a check to an
//! address a URL could not name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_matches(net: &[u8], ip: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if net[..full] != ip[..full] {
        return false;
    }
    rest == 0 || (net[full] ^ ip[full]) >> (8 - rest) == 0
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{s:?} is not an IP network (CIDR, e.g. 10.0.0.0/8)"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { address, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The policy: public addresses, plus the listed networks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Networks allowed although they are not public.
    pub allowed: Vec<Network>,
}

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The address.
    pub address: IpAddr,
    /// Its kind, for the message: "loopback", "private", "link-local (cloud metadata)", ...
    pub kind: &'static str,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a {} address, which the operator's address policy refuses (allow its network \
             with --provider-allowed-networks)",
            self.address, self.kind
        )
    }
}

impl std::error::Error for Refusal {}

impl AddressPolicy {
    /// `Ok` when the checks may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let ip = canonical(ip);
        match non_public(ip) {
            Some(kind) if !self.allowed.iter().any(|n| n.contains(ip)) => {
                Err(Refusal { address: ip, kind })
            }
            _ => Ok(()),
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// What kind of non-public address `ip` is; `None` for a public one.
fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata)")
    } else if ip.is_private() {
        Some("private")
    } else if a == 100 && (64..128).contains(&b) {
        // RFC 6598 shared address space; Alibaba Cloud's metadata service is 100.100.100.200.
        Some("shared (carrier-grade NAT)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || a >= 224 {
        Some("multicast or reserved")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else {
        None
    }
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        // Unique local; AWS's IPv6 metadata endpoint fd00:ec2::254 is one.
        Some("unique local (cloud metadata)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 (64:ff9b::/96) reaches IPv4 addresses, private ones included.
        Some("NAT64")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, ip: &str) -> Option<&'static str> {
        policy
            .check(ip.parse().expect("address"))
            .err()
            .map(|r| r.kind)
    }

    #[test]
    fn metadata_loopback_and_cluster_addresses_are_refused_by_default() {
        let p = AddressPolicy::default();
        for (ip, kind) in [
            ("169.254.169.254", "link-local (cloud metadata)"),
            ("fd00:ec2::254", "unique local (cloud metadata)"),
            ("100.100.100.200", "shared (carrier-grade NAT)"),
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("10.96.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("0.0.0.0", "unspecified"),
            ("fe80::1", "link-local"),
            ("64:ff9b::a00:1", "NAT64"),
        ] {
            assert_eq!(refused(&p, ip), Some(kind), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let p = AddressPolicy::default();
        for ip in ["8.8.8.8", "20.190.160.1", "2606:4700::1111", "100.128.0.1"] {
            assert_eq!(refused(&p, ip), None, "{ip}");
        }
    }

    #[test]
    fn listed_networks_are_allowed_and_nothing_else() {
        let p = AddressPolicy {
            allowed: vec![
                "10.96.0.0/12".parse().expect("cidr"),
                "127.0.0.1".parse().expect("cidr"),
            ],
        };
        assert_eq!(refused(&p, "10.100.3.4"), None);
        assert_eq!(refused(&p, "10.112.0.1"), Some("private"));
        assert_eq!(refused(&p, "127.0.0.1"), None);
        assert_eq!(refused(&p, "::ffff:127.0.0.1"), None);
        assert_eq!(refused(&p, "127.0.0.2"), Some("loopback"));
        assert_eq!(
            refused(&p, "169.254.169.254"),
            Some("link-local (cloud metadata)")
        );
    }

    #[test]
    fn networks_parse_and_reject_nonsense() {
        assert_eq!(
            "10.0.0.0/8".parse::<Network>().map(|n| n.to_string()),
            Ok("10.0.0.0/8".to_string())
        );
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("fd00::/129".parse::<Network>().is_err());
        assert!("example.com".parse::<Network>().is_err());
        let n: Network = "192.168.0.0/17".parse().expect("cidr");
        assert!(n.contains("192.168.127.255".parse().expect("ip")));
        assert!(!n.contains("192.168.128.0".parse().expect("ip")));
    }
}
