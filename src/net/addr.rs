//! [`PackedAddr`]: a socket address as the call model keeps it, in 20 bytes instead of
//! [`SocketAddr`]'s 32. A capture's addresses never carry an IPv6 flow label or scope id
//! (they are built from the IP and UDP/TCP headers with [`SocketAddr::new`]), so nothing is
//! lost; each message of a call keeps two of them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// An IP address and a port; converts to and from [`SocketAddr`], shows and orders as one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackedAddr {
    ip: IpAddr,
    port: u16,
}

impl PackedAddr {
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn socket(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

impl From<SocketAddr> for PackedAddr {
    fn from(a: SocketAddr) -> Self {
        PackedAddr {
            ip: a.ip(),
            port: a.port(),
        }
    }
}

impl From<PackedAddr> for SocketAddr {
    fn from(a: PackedAddr) -> Self {
        a.socket()
    }
}

impl PartialEq<SocketAddr> for PackedAddr {
    fn eq(&self, other: &SocketAddr) -> bool {
        self.ip == other.ip() && self.port == other.port()
    }
}

impl PartialEq<PackedAddr> for SocketAddr {
    fn eq(&self, other: &PackedAddr) -> bool {
        other == self
    }
}

impl PartialOrd for PackedAddr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PackedAddr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.socket().cmp(&other.socket())
    }
}

impl fmt::Display for PackedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.socket(), f)
    }
}

impl fmt::Debug for PackedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.socket(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::PackedAddr;
    use std::net::SocketAddr;

    #[test]
    fn a_packed_address_is_the_socket_address_it_came_from() {
        let addrs: Vec<SocketAddr> = [
            "10.0.0.1:5060",
            "[2001:db8::1]:5061",
            "[::ffff:10.0.0.1]:5060",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        for (i, a) in addrs.iter().enumerate() {
            let p = PackedAddr::from(*a);
            assert_eq!(SocketAddr::from(p), *a);
            assert_eq!(p.to_string(), a.to_string());
            assert_eq!(format!("{p:?}"), format!("{a:?}"));
            assert_eq!(p, *a);
            assert_eq!(*a, p);
            for b in &addrs[i..] {
                assert_eq!(p.cmp(&PackedAddr::from(*b)), a.cmp(b), "{a} against {b}");
            }
        }
        assert!(std::mem::size_of::<PackedAddr>() < std::mem::size_of::<SocketAddr>());
    }
}
