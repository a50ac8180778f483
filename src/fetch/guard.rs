//! The address guard: which IP addresses citewatch may connect to.
//!
//! A cited URL is untrusted input: it, or a redirect, may point at the loopback
//! interface, the local network or a cloud metadata address. Only globally
//! routable addresses are fetched, unless a network is listed in
//! `[fetch] allow_networks`. The check runs where connection addresses are decided
//! (the resolver) and on IP-literal hosts, which skip the resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Why an address is refused: a short name of its class.
pub fn refused_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "this-network (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private (RFC 1918)",
        (100, 64..=127, _) => "shared address space (CGNAT 100.64.0.0/10)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_class(v4).map(|_| "IPv4-mapped form of a refused address");
    }
    let seg = ip.segments();
    Some(match seg {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        [0, 0, 0, 0, 0, 0, _, _] => {
            // Deprecated IPv4-compatible form (::a.b.c.d): judge the embedded address.
            let v4 = Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32);
            return v4_class(v4).map(|_| "IPv4-compatible form of a refused address");
        }
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => {
            // SIIT's IPv4-translated form (::ffff:0:a.b.c.d, RFC 2765): a
            // stateless translator maps it to the embedded address.
            let v4 = Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
            return v4_class(v4).map(|_| "IPv4-translated form of a refused address");
        }
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => {
            // NAT64: a gateway would translate to the embedded IPv4 address.
            let v4 = Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32);
            return v4_class(v4).map(|_| "NAT64 form of a refused address");
        }
        // RFC 8215: a site's own NAT64 gateway, mapping to whatever IPv4
        // addresses it serves, internal ones too; its prefix length (and so
        // where the IPv4 bytes sit) is the site's choice, so no embedded
        // address can be judged.
        [0x64, 0xff9b, 1, ..] => "local-use NAT64 (64:ff9b:1::/48)",
        [0x2002, hi, lo, ..] => {
            let v4 = Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
            return v4_class(v4).map(|_| "6to4 form of a refused address");
        }
        [0x2001, 0, _, _, _, _, hi, lo] => {
            // Teredo (RFC 4380): a relay sends to the client's IPv4 address,
            // stored inverted in the last 32 bits.
            let v4 = Ipv4Addr::from(!(((hi as u32) << 16) | lo as u32));
            return v4_class(v4).map(|_| "Teredo form of a refused address");
        }
        [0x2001, 2, 0, ..] => "benchmarking (2001:2::/48)",
        [s, ..] if s & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        [s, ..] if s & 0xffc0 == 0xfe80 => "link-local",
        [s, ..] if s & 0xffc0 == 0xfec0 => "site-local (deprecated)",
        [s, ..] if s & 0xff00 == 0xff00 => "multicast",
        [0x2001, 0xdb8, ..] => "documentation",
        [0x3fff, s1, ..] if s1 & 0xf000 == 0 => "documentation (3fff::/20)",
        [0x100, 0, 0, 0, ..] => "discard-only (100::/64)",
        _ => return None,
    })
}

/// An address the guard refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {address} refused: {class} (not in allow_networks)")]
pub struct Refused {
    /// The refused address.
    pub address: IpAddr,
    /// Its class, e.g. `loopback`.
    pub class: &'static str,
}

/// Decides whether an address may be connected to.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allow: Vec<IpNet>,
}

impl AddressGuard {
    /// A guard that lets `allow` through in addition to global addresses.
    pub fn new(allow: Vec<IpNet>) -> AddressGuard {
        AddressGuard { allow }
    }

    /// `Ok` when `ip` may be connected to.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let Some(class) = refused_class(ip) else {
            return Ok(());
        };
        let canonical = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let allowed = |a: IpAddr| self.allow.iter().any(|n| n.contains(&a));
        if allowed(ip) || canonical.is_some_and(allowed) {
            return Ok(());
        }
        Err(Refused { address: ip, class })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<&'static str> {
        refused_class(s.parse().unwrap())
    }

    #[test]
    fn every_refused_v4_class() {
        for (ip, want) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private (RFC 1918)"),
            ("172.16.0.1", "private (RFC 1918)"),
            ("172.31.255.255", "private (RFC 1918)"),
            ("192.168.1.1", "private (RFC 1918)"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared address space (CGNAT 100.64.0.0/10)"),
            (
                "100.127.255.254",
                "shared address space (CGNAT 100.64.0.0/10)",
            ),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this-network (0.0.0.0/8)"),
            ("255.255.255.255", "broadcast"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking (198.18.0.0/15)"),
            ("240.0.0.1", "reserved (240.0.0.0/4)"),
            ("192.0.0.8", "IETF protocol assignments (192.0.0.0/24)"),
        ] {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn neighbours_of_refused_ranges_are_global() {
        for ip in [
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.0.1",
            "11.0.0.1",
            "8.8.8.8",
            "1.1.1.1",
            "192.169.0.1",
            "223.255.255.255",
            "198.20.0.1",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_refused_v6_class() {
        for ip in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
        ] {
            assert!(class(ip).is_some(), "{ip} should be refused");
        }
        for ip in [
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert_eq!(class(ip), None, "{ip} should be allowed");
        }
    }

    /// Translation prefixes whose gateway (or relay) this site may run: an
    /// address in one reaches whatever IPv4 address it maps to, internal
    /// ones too.
    #[test]
    fn every_refused_v6_translation_form() {
        for (ip, want) in [
            // RFC 8215: a site's own NAT64, which may map to any internal
            // address (with RFC 6052's /48 layout the IPv4 bytes straddle
            // the u octet, so they cannot be read from the last 32 bits).
            ("64:ff9b:1::1", "local-use NAT64 (64:ff9b:1::/48)"),
            ("64:ff9b:1:a00::100", "local-use NAT64 (64:ff9b:1::/48)"),
            ("64:ff9b:1::8.8.8.8", "local-use NAT64 (64:ff9b:1::/48)"),
            (
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                "local-use NAT64 (64:ff9b:1::/48)",
            ),
            // Teredo: the client's IPv4 address, inverted, in the last 32 bits.
            (
                "2001:0:4136:e378:8000:63bf:f5ff:fffe",
                "Teredo form of a refused address",
            ),
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                "Teredo form of a refused address",
            ),
            // SIIT's IPv4-translated form (::ffff:0:a.b.c.d, RFC 2765).
            (
                "::ffff:0:10.0.0.1",
                "IPv4-translated form of a refused address",
            ),
            (
                "::ffff:0:127.0.0.1",
                "IPv4-translated form of a refused address",
            ),
            ("2001:2::1", "benchmarking (2001:2::/48)"),
            ("2001:2:0:ffff::1", "benchmarking (2001:2::/48)"),
        ] {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
        for ip in [
            // The well-known prefix is judged by the address it embeds.
            "64:ff9b::8.8.8.8",
            // A Teredo client at 8.8.8.8.
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            "::ffff:0:8.8.8.8",
            // AMT (2001:3::/32) is global.
            "2001:3::1",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(class(ip), None, "{ip} should be allowed");
        }
        let g = AddressGuard::new(vec!["64:ff9b:1::/48".parse().unwrap()]);
        assert!(g.check("64:ff9b:1::1".parse().unwrap()).is_ok());
        let r = AddressGuard::default()
            .check("64:ff9b:1::1".parse().unwrap())
            .unwrap_err();
        assert_eq!(r.class, "local-use NAT64 (64:ff9b:1::/48)");
    }

    #[test]
    fn allow_networks_let_listed_addresses_through_only() {
        let g = AddressGuard::new(vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.1.0.0/16".parse().unwrap(),
        ]);
        assert!(g.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check("10.1.200.3".parse().unwrap()).is_ok());
        let r = g.check("127.0.0.2".parse().unwrap()).unwrap_err();
        assert_eq!(r.class, "loopback");
        assert!(g.check("10.2.0.1".parse().unwrap()).is_err());
        assert!(g.check("8.8.8.8".parse().unwrap()).is_ok());
        assert!(
            AddressGuard::default()
                .check("127.0.0.1".parse().unwrap())
                .is_err()
        );
    }
}
