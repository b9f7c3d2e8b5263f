//! Which addresses an outside fetch may connect to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not an ordinary public unicast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrClass {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 (unique local),
    /// fec0::/10 (old site-local), 64:ff9b:1::/48 (local NAT64).
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// Cloud metadata services: 169.254.169.254, 100.100.100.200, fd00:ec2::254, 192.0.0.192.
    Metadata,
    /// 0.0.0.0/8, :: (on Linux, connecting to 0.0.0.0 reaches the local host).
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 224/4, ff00::/8.
    Multicast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// Everything else that is not public unicast: 240/4, 192.0.0/24, 198.18/15 (benchmarking),
    /// 192.88.99/24 (6to4 relay), 100::/64 (discard), 2001::/32 (Teredo), 2001:2::/48.
    Reserved,
}

impl AddrClass {
    /// The phrase used in error messages: "resolves to {this}".
    pub fn describe(self) -> &'static str {
        match self {
            AddrClass::Loopback => "a loopback address",
            AddrClass::Private => "a private address",
            AddrClass::LinkLocal => "a link-local address",
            AddrClass::Metadata => "a cloud metadata address",
            AddrClass::Unspecified => "an unspecified address",
            AddrClass::Broadcast => "a broadcast address",
            AddrClass::Multicast => "a multicast address",
            AddrClass::Documentation => "a documentation address",
            AddrClass::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for AddrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// True when `ip` is anything but an ordinary public unicast address. Outside fetches refuse
/// such addresses unless the policy explicitly allows loopback or private ranges (and even
/// then link-local, metadata and the rest stay refused).
pub fn is_blocked(ip: IpAddr) -> bool {
    classify(ip).is_some()
}

/// The class of a non-public address, or `None` for an ordinary public unicast address.
pub fn classify(ip: IpAddr) -> Option<AddrClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddrClass> {
    use AddrClass::*;
    let o = ip.octets();
    // Specific addresses first: they sit inside wider ranges.
    if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] || o == [192, 0, 0, 192] {
        return Some(Metadata);
    }
    if o == [255, 255, 255, 255] {
        return Some(Broadcast);
    }
    let table: &[([u8; 4], u32, AddrClass)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([127, 0, 0, 0], 8, Loopback),
        ([10, 0, 0, 0], 8, Private),
        ([172, 16, 0, 0], 12, Private),
        ([192, 168, 0, 0], 16, Private),
        ([100, 64, 0, 0], 10, Private),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([198, 18, 0, 0], 15, Reserved),
        ([192, 88, 99, 0], 24, Reserved),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    table
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, class)| *class)
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddrClass> {
    use AddrClass::*;
    let bits = u128::from(ip);
    if bits == 0 {
        return Some(Unspecified);
    }
    if bits == 1 {
        return Some(Loopback);
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(Metadata);
    }
    let low_v4 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    // IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible form (::a.b.c.d): judge the v4.
    if bits >> 32 == 0xffff || bits >> 32 == 0 {
        return classify_v4(low_v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96 embeds the v4 in the low 32 bits.
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return classify_v4(low_v4);
    }
    // 6to4 2002::/16 embeds the v4 in bits 16..48.
    if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        let v4 = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
        return classify_v4(v4);
    }
    let table: &[(Ipv6Addr, u32, AddrClass)] = &[
        (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, Private),
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, Private),
        (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, Private),
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, LinkLocal),
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, Multicast),
        (
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            32,
            Documentation,
        ),
        (
            Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
            20,
            Documentation,
        ),
        (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, Reserved),
        (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, Reserved),
        (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, Reserved),
    ];
    table
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
        .map(|(_, _, class)| *class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<AddrClass> {
        classify(s.parse().expect("address"))
    }

    #[test]
    fn public_addresses_pass() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "172.15.255.255",
            "192.169.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2002:5db8:d822::1", // 6to4 of 93.184.216.34
            "64:ff9b::808:808",  // NAT64 of 8.8.8.8
        ] {
            assert_eq!(c(s), None, "{s}");
            assert!(!is_blocked(s.parse().expect("address")), "{s}");
        }
    }

    #[test]
    fn blocked_v4_ranges() {
        use AddrClass::*;
        let cases = [
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", Private),
            ("100.127.255.255", Private),
            ("169.254.0.1", LinkLocal),
            ("169.254.169.254", Metadata),
            ("100.100.100.200", Metadata),
            ("192.0.0.192", Metadata),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("255.255.255.255", Broadcast),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("198.18.0.1", Reserved),
            ("240.0.0.1", Reserved),
        ];
        for (s, class) in cases {
            assert_eq!(c(s), Some(class), "{s}");
        }
    }

    #[test]
    fn blocked_v6_ranges_and_embeddings() {
        use AddrClass::*;
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fd00:ec2::254", Metadata),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:169.254.169.254", Metadata),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a00:1", Private),       // NAT64 of 10.0.0.1
            ("64:ff9b::7f00:1", Loopback),     // NAT64 of 127.0.0.1
            ("2002:7f00:1::1", Loopback),      // 6to4 of 127.0.0.1
            ("2002:a9fe:a9fe::1", Metadata),   // 6to4 of 169.254.169.254
            ("2001:0:4136:e378::1", Reserved), // Teredo
        ];
        for (s, class) in cases {
            assert_eq!(c(s), Some(class), "{s}");
        }
    }
}
