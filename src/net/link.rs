//! Link layers and tunnels: from a frame's bytes to the IP packet inside.
//!
//! Handles Ethernet (with any number of 802.1Q / 802.1ad / QinQ tags), Linux cooked
//! capture v1 and v2, raw IPv4/IPv6, BSD NULL/LOOP, PPPoE sessions, Endace ERF records
//! (Ethernet and IP record types), and on the IP side
//! the tunnels the field meets: IP-in-IP, GRE (plain, transparent Ethernet bridging,
//! ERSPAN type II/III, PPP) and GTP-U. All functions are total: short input yields `None`.

/// Ethertypes sipdiag understands.
pub(crate) const ETH_IPV4: u16 = 0x0800;
pub(crate) const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_PPPOE: u16 = 0x8864;
const ETH_TEB: u16 = 0x6558;
const ETH_ERSPAN2: u16 = 0x88be;
const ETH_ERSPAN3: u16 = 0x22eb;
const ETH_PPP: u16 = 0x880b;

/// LINKTYPE_* values (<https://www.tcpdump.org/linktypes.html>).
pub(crate) mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    pub const RAW_OPENBSD: u32 = 12;
    pub const RAW_BSDI: u32 = 14;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const ERF: u32 = 197;
    pub const LINUX_SLL2: u32 = 276;
}

/// The LINKTYPE_* name of common link types, for messages ("" when not listed).
pub(crate) fn linktype_name(lt: u32) -> &'static str {
    match lt {
        0 => "NULL",
        1 => "ETHERNET",
        6 => "IEEE802_5",
        9 => "PPP",
        10 => "FDDI",
        50 => "PPP_HDLC",
        101 => "RAW",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        107 => "FRELAY",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "IEEE802_11_PRISM",
        127 => "IEEE802_11_RADIOTAP",
        139 => "MTP2_WITH_PHDR",
        140 => "MTP2",
        141 => "MTP3",
        142 => "SCCP",
        147 => "USER0",
        148..=162 => {
            const USER: [&str; 15] = [
                "USER1", "USER2", "USER3", "USER4", "USER5", "USER6", "USER7", "USER8", "USER9",
                "USER10", "USER11", "USER12", "USER13", "USER14", "USER15",
            ];
            USER[(lt - 148) as usize]
        }
        192 => "PPI",
        195 => "IEEE802_15_4_WITHFCS",
        197 => "ERF",
        201 => "BLUETOOTH_HCI_H4_WITH_PHDR",
        220 => "USB_LINUX_MMAPPED",
        228 => "IPV4",
        229 => "IPV6",
        252 => "WIRESHARK_UPPER_PDU",
        253 => "NETLINK",
        276 => "LINUX_SLL2",
        _ => "",
    }
}

/// What the network layer is given: an ethertype and the bytes after the link header.
pub(crate) type LinkPayload<'a> = (u16, &'a [u8]);

/// Strips the link-layer header of `data` captured with `linktype`.
/// `None` for link types sipdiag does not decode or frames too short for their header.
pub(crate) fn strip_link(linktype: u32, data: &[u8]) -> Option<LinkPayload<'_>> {
    match linktype {
        linktype::ETHERNET => ethernet(data, 0),
        linktype::NULL | linktype::LOOP => {
            let family = data.get(..4)?;
            let le = u32::from_le_bytes(family.try_into().ok()?);
            let be = u32::from_be_bytes(family.try_into().ok()?);
            let fam = if le < 256 { le } else { be };
            // AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD.
            let ethertype = match fam {
                2 => ETH_IPV4,
                24 | 28 | 30 | 10 => ETH_IPV6,
                _ => return None,
            };
            Some((ethertype, &data[4..]))
        }
        linktype::RAW | linktype::RAW_OPENBSD | linktype::RAW_BSDI => raw_ip(data),
        linktype::IPV4 => Some((ETH_IPV4, data)),
        linktype::IPV6 => Some((ETH_IPV6, data)),
        linktype::LINUX_SLL => {
            let proto = u16::from_be_bytes(data.get(14..16)?.try_into().ok()?);
            ether_payload(proto, data.get(16..)?, 0)
        }
        linktype::LINUX_SLL2 => {
            let proto = u16::from_be_bytes(data.get(0..2)?.try_into().ok()?);
            ether_payload(proto, data.get(20..)?, 0)
        }
        linktype::PPP => ppp_proto(data),
        linktype::ERF => erf(data),
        _ => None,
    }
}

/// True for the link types [`strip_link`] decodes.
pub(crate) fn is_supported(lt: u32) -> bool {
    use linktype::*;
    matches!(
        lt,
        NULL | ETHERNET
            | PPP
            | RAW_OPENBSD
            | RAW_BSDI
            | RAW
            | LOOP
            | LINUX_SLL
            | IPV4
            | IPV6
            | LINUX_SLL2
            | ERF
    )
}

/// ERF record types that carry Ethernet (ETH, COLOR_ETH, DSM_COLOR_ETH) and raw IP.
const ERF_ETH: [u8; 3] = [2, 11, 16];
const ERF_IPV4: u8 = 22;
const ERF_IPV6: u8 = 23;

/// The type of an ERF record (LINKTYPE_ERF frame) that [`strip_link`] does not decode
/// because of its record type; `None` for other link types and decoded types.
pub(crate) fn erf_undecoded_type(linktype: u32, data: &[u8]) -> Option<u8> {
    let t = *data.get(8)? & 0x7f;
    (linktype == linktype::ERF && !ERF_ETH.contains(&t) && t != ERF_IPV4 && t != ERF_IPV6)
        .then_some(t)
}

/// An Endace ERF record (LINKTYPE_ERF, as pcapng stores DAG captures): a 16-byte header
/// (timestamp 8, type 1, flags 1, rlen 2, lctr 2, wlen 2); while bit 7 of the type, then of
/// each extension header's first byte, is set, another 8-byte extension header follows.
/// Ethernet records then carry 2 bytes (offset, pad) before the frame; IPv4/IPv6 records
/// the packet itself. Other record types (ATM, HDLC, …) are not decoded.
fn erf(data: &[u8]) -> Option<LinkPayload<'_>> {
    let ty = *data.get(8)?;
    let mut off = 16;
    let mut more = ty & 0x80 != 0;
    while more {
        // Each extension header is 8 bytes; the loop ends at the end of the data.
        more = data.get(off)? & 0x80 != 0;
        off += 8;
    }
    let body = data.get(off..)?;
    match ty & 0x7f {
        t if ERF_ETH.contains(&t) => ethernet(body.get(2..)?, 0),
        ERF_IPV4 => Some((ETH_IPV4, body)),
        ERF_IPV6 => Some((ETH_IPV6, body)),
        _ => None,
    }
}

fn raw_ip(data: &[u8]) -> Option<LinkPayload<'_>> {
    match data.first()? >> 4 {
        4 => Some((ETH_IPV4, data)),
        6 => Some((ETH_IPV6, data)),
        _ => None,
    }
}

fn ethernet(data: &[u8], depth: u8) -> Option<LinkPayload<'_>> {
    let ethertype = u16::from_be_bytes(data.get(12..14)?.try_into().ok()?);
    ether_payload(ethertype, data.get(14..)?, depth)
}

/// Follows VLAN tags, PPPoE and transparent bridging down to IP.
fn ether_payload(ethertype: u16, data: &[u8], depth: u8) -> Option<LinkPayload<'_>> {
    if depth > 8 {
        return None;
    }
    match ethertype {
        ETH_IPV4 | ETH_IPV6 => Some((ethertype, data)),
        ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
            let inner = u16::from_be_bytes(data.get(2..4)?.try_into().ok()?);
            ether_payload(inner, data.get(4..)?, depth + 1)
        }
        ETH_PPPOE => {
            // version/type, code, session id, length, then the PPP protocol field.
            let proto = u16::from_be_bytes(data.get(6..8)?.try_into().ok()?);
            ppp(data.get(8..)?, proto)
        }
        _ => None,
    }
}

/// A PPP frame starting with the address/control bytes or directly with the protocol.
fn ppp_proto(data: &[u8]) -> Option<LinkPayload<'_>> {
    let (proto, rest) = if data.starts_with(&[0xff, 0x03]) {
        (
            u16::from_be_bytes(data.get(2..4)?.try_into().ok()?),
            data.get(4..)?,
        )
    } else {
        (
            u16::from_be_bytes(data.get(0..2)?.try_into().ok()?),
            data.get(2..)?,
        )
    };
    ppp(rest, proto)
}

fn ppp(data: &[u8], proto: u16) -> Option<LinkPayload<'_>> {
    match proto {
        0x0021 => Some((ETH_IPV4, data)),
        0x0057 => Some((ETH_IPV6, data)),
        _ => None,
    }
}

/// GRE (RFC 2784/2890, and PPTP's enhanced GRE version 1) → inner packet.
pub(crate) fn gre(data: &[u8]) -> Option<LinkPayload<'_>> {
    let flags = u16::from_be_bytes(data.get(0..2)?.try_into().ok()?);
    let proto = u16::from_be_bytes(data.get(2..4)?.try_into().ok()?);
    let mut off = 4;
    if flags & 0x8000 != 0 {
        off += 4; // checksum + reserved
    }
    if flags & 0x2000 != 0 {
        off += 4; // key
    }
    if flags & 0x1000 != 0 {
        off += 4; // sequence number
    }
    if flags & 0x0007 == 1 && flags & 0x0080 != 0 {
        off += 4; // enhanced GRE acknowledgment number
    }
    let inner = data.get(off..)?;
    match proto {
        ETH_TEB => ethernet(inner, 1),
        ETH_ERSPAN2 => {
            if flags & 0x1000 == 0 {
                // ERSPAN type I: no ERSPAN header at all.
                ethernet(inner, 1)
            } else {
                ethernet(inner.get(8..)?, 1)
            }
        }
        ETH_ERSPAN3 => {
            // 12-byte header; bit O of the last byte announces an 8-byte platform subheader.
            let o = inner.get(11)? & 0x01 != 0;
            ethernet(inner.get(if o { 20 } else { 12 }..)?, 1)
        }
        ETH_PPP => ppp_proto(inner),
        _ => ether_payload(proto, inner, 1),
    }
}

/// GTP-U (UDP 2152) G-PDU → inner IP packet.
pub(crate) fn gtp_u(data: &[u8]) -> Option<LinkPayload<'_>> {
    let flags = *data.first()?;
    if flags >> 5 != 1 || data.get(1)? != &0xff {
        return None; // not version 1, or not a G-PDU
    }
    let mut off = 8;
    if flags & 0x07 != 0 {
        off += 4; // sequence, N-PDU, next extension type
        let mut next = *data.get(11)?;
        while next != 0 {
            let len = usize::from(*data.get(off)?) * 4;
            if len == 0 {
                return None;
            }
            next = *data.get(off + len - 1)?;
            off += len;
        }
    }
    raw_ip(data.get(off..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_two_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00, 0x45]);
        let (t, p) = strip_link(linktype::ETHERNET, &f).unwrap();
        assert_eq!(t, ETH_IPV4);
        assert_eq!(p, &[0x45]);
    }

    #[test]
    fn sll2_and_sll() {
        let mut f = vec![0x86, 0xdd];
        f.extend_from_slice(&[0; 18]);
        f.push(0x60);
        assert_eq!(strip_link(linktype::LINUX_SLL2, &f).unwrap().0, ETH_IPV6);
        let mut f = vec![0u8; 14];
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(strip_link(linktype::LINUX_SLL, &f).unwrap().1, &[0x45]);
    }

    #[test]
    fn short_input_is_none() {
        for lt in [0, 1, 101, 113, 276, 9, 197] {
            assert!(strip_link(lt, &[]).is_none());
        }
        assert!(gre(&[0x80]).is_none());
        assert!(gtp_u(&[0x30]).is_none());
    }

    #[test]
    fn null_loopback_both_orders() {
        assert_eq!(
            strip_link(linktype::NULL, &[2, 0, 0, 0, 0x45]).unwrap().0,
            ETH_IPV4
        );
        assert_eq!(
            strip_link(linktype::LOOP, &[0, 0, 0, 30, 0x60]).unwrap().0,
            ETH_IPV6
        );
    }

    /// An ERF header: type, flags, rlen, lctr, wlen after an 8-byte timestamp.
    fn erf_header(ty: u8) -> Vec<u8> {
        let mut v = vec![0u8; 8];
        v.extend_from_slice(&[ty, 0x04, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn erf_ethernet_with_and_without_extension_headers() {
        let eth = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[0, 0]); // offset + pad
            v.extend_from_slice(&[0u8; 12]);
            v.extend_from_slice(&[0x08, 0x00, 0x45]);
        };
        let mut plain = erf_header(2);
        eth(&mut plain);
        assert_eq!(
            strip_link(linktype::ERF, &plain),
            Some((ETH_IPV4, &[0x45][..]))
        );
        // Two extension headers: the first says another follows.
        let mut ext = erf_header(0x82);
        ext.extend_from_slice(&[0x83, 0, 0, 0, 0, 0, 0, 1]);
        ext.extend_from_slice(&[0x03, 0, 0, 0, 0, 0, 0, 2]);
        eth(&mut ext);
        assert_eq!(
            strip_link(linktype::ERF, &ext),
            Some((ETH_IPV4, &[0x45][..]))
        );
        // IPv6 record, and a record type that is not decoded (ATM).
        let mut v6 = erf_header(23);
        v6.push(0x60);
        assert_eq!(strip_link(linktype::ERF, &v6).unwrap().0, ETH_IPV6);
        let mut atm = erf_header(3);
        atm.extend_from_slice(&[0; 60]);
        assert!(strip_link(linktype::ERF, &atm).is_none());
        assert_eq!(erf_undecoded_type(linktype::ERF, &atm), Some(3));
        assert_eq!(erf_undecoded_type(linktype::ERF, &plain), None);
        assert_eq!(erf_undecoded_type(linktype::ETHERNET, &atm), None);
        // Extension headers announced but cut off.
        let mut cut = erf_header(0x82);
        cut.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert!(strip_link(linktype::ERF, &cut).is_none());
        // Total on any bytes: every length, every byte with bit 7 set (chains of
        // extension headers to the end of the data).
        for len in 0..80 {
            for fill in [0x00u8, 0x82, 0xff] {
                let _ = strip_link(linktype::ERF, &vec![fill; len]);
            }
        }
    }
}
