//! STUN message parsing (RFC 5389 / RFC 8489, ICE attributes of RFC 8445, and the classic
//! RFC 3489 header).
//!
//! A STUN message starts with a 20-byte header: two zero bits, a 14-bit message type, a
//! 16-bit length (of the attributes, a multiple of 4), the magic cookie `0x2112A442` and a
//! 96-bit transaction id. Classic RFC 3489 messages have no cookie (the 128 bits after the
//! length are all transaction id); since nothing else marks them, callers accept them only
//! where the port pair is otherwise known to carry media.
//!
//! Parsing borrows the datagram; nothing is copied except the few attribute values kept.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The RFC 5389 magic cookie.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Header length.
pub const HEADER_LEN: usize = 20;

/// Message class (RFC 8489 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Request,
    Indication,
    Success,
    Error,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Request => "request",
            Class::Indication => "indication",
            Class::Success => "success",
            Class::Error => "error",
        }
    }
}

/// Binding (RFC 8489).
pub const METHOD_BINDING: u16 = 0x001;

/// Attribute types sipdiag reads.
pub mod attr {
    pub const MAPPED_ADDRESS: u16 = 0x0001;
    pub const USERNAME: u16 = 0x0006;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    pub const PRIORITY: u16 = 0x0024;
    pub const USE_CANDIDATE: u16 = 0x0025;
    pub const ICE_CONTROLLED: u16 = 0x8029;
    pub const ICE_CONTROLLING: u16 = 0x802A;
    pub const DATA: u16 = 0x0013;
}

/// Splits a 14-bit message type into class and method (RFC 8489 §5, figure 3).
pub fn split_type(t: u16) -> (Class, u16) {
    let class = match ((t >> 7) & 0x2) | ((t >> 4) & 0x1) {
        0 => Class::Request,
        1 => Class::Indication,
        2 => Class::Success,
        _ => Class::Error,
    };
    let method = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2);
    (class, method)
}

/// A parsed STUN message (header plus the attributes diagnosis needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub msg_type: u16,
    pub class: Class,
    pub method: u16,
    /// Bytes 4..20 of the header: cookie + 96-bit transaction id (RFC 5389), or the
    /// 128-bit transaction id of a classic message. Unique key of a transaction.
    pub key: [u8; 16],
    /// A classic RFC 3489 message (no magic cookie).
    pub classic: bool,
    /// Whole message length in bytes (header + attributes).
    pub len: usize,
    pub attrs: Attributes,
}

/// The attributes sipdiag reads; others are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub username: Option<String>,
    pub priority: Option<u32>,
    pub use_candidate: bool,
    pub ice_controlling: bool,
    pub ice_controlled: bool,
    pub xor_mapped_address: Option<SocketAddr>,
    pub mapped_address: Option<SocketAddr>,
    /// ERROR-CODE as class * 100 + number, e.g. 401, 487.
    pub error_code: Option<u16>,
    pub error_reason: Option<String>,
    /// Where the DATA attribute's value lies in the message (TURN Send/Data
    /// indications carry relayed media in it).
    pub data: Option<std::ops::Range<usize>>,
    /// The attribute list did not add up to the message length.
    pub malformed: bool,
}

impl Message {
    /// The transaction id as hex: 24 digits (96 bits) for RFC 5389, 32 for classic STUN.
    pub fn transaction_hex(&self) -> String {
        let bytes = if self.classic {
            &self.key[..]
        } else {
            &self.key[4..]
        };
        hex(bytes)
    }

    /// Message type as Wireshark prints it, e.g. `0x0001`.
    pub fn type_hex(&self) -> String {
        format!("0x{:04x}", self.msg_type)
    }

    /// Human name, e.g. `Binding request`, `Allocate error response`.
    pub fn describe(&self) -> String {
        describe(self.msg_type)
    }
}

/// Methods of RFC 5389 (Binding, Shared secret) and TURN (RFC 5766, RFC 6062): the
/// method number, its name in messages, and its name in JSON (snake_case).
const METHODS: [(u16, &str, &str); 11] = [
    (0x001, "Binding", "binding"),
    (0x002, "Shared secret", "shared_secret"),
    (0x003, "Allocate", "allocate"),
    (0x004, "Refresh", "refresh"),
    (0x006, "Send", "send"),
    (0x007, "Data", "data"),
    (0x008, "CreatePermission", "create_permission"),
    (0x009, "ChannelBind", "channel_bind"),
    (0x00a, "Connect", "connect"),
    (0x00b, "ConnectionBind", "connection_bind"),
    (0x00c, "ConnectionAttempt", "connection_attempt"),
];

/// The method of a message type by its JSON name (`binding`, `allocate`, …), or
/// `unknown` for a method no RFC above defines.
pub fn method_name(msg_type: u16) -> &'static str {
    let (_, method) = split_type(msg_type);
    METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map_or("unknown", |(_, _, json)| json)
}

/// Human name of a message type.
pub fn describe(msg_type: u16) -> String {
    let (class, method) = split_type(msg_type);
    let Some(&(_, m, _)) = METHODS.iter().find(|(n, _, _)| *n == method) else {
        return format!("STUN 0x{msg_type:04x}");
    };
    let c = match class {
        Class::Request => "request",
        Class::Indication => "indication",
        Class::Success => "success response",
        Class::Error => "error response",
    };
    format!("{m} {c}")
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Length of the RFC 5389 message that `buf` starts with, from its header alone: the two
/// top bits are zero, the cookie matches and the length is a multiple of 4. The message
/// may extend beyond `buf` (stream framing).
pub fn header_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < HEADER_LEN || buf[0] & 0xC0 != 0 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    (cookie == MAGIC_COOKIE && len % 4 == 0).then_some(HEADER_LEN + len)
}

/// Parses a whole datagram as one RFC 5389 message: the header checks of [`header_len`]
/// and a length field equal to the payload length minus 20.
pub fn parse(buf: &[u8]) -> Option<Message> {
    let total = header_len(buf)?;
    if total != buf.len() {
        return None;
    }
    Some(parse_unchecked(buf, false))
}

/// Message types of RFC 3489 (Binding and Shared Secret requests and responses).
const CLASSIC_TYPES: [u16; 6] = [0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112];

/// Parses a datagram as a classic RFC 3489 message: no magic cookie, a known message type,
/// a length equal to the payload length minus 20, and attributes (types 0x0001-0x000b,
/// or the optional range 0x8000+) that exactly fill it.
pub fn parse_classic(buf: &[u8]) -> Option<Message> {
    if buf.len() < HEADER_LEN {
        return None;
    }
    let msg_type = u16::from_be_bytes([buf[0], buf[1]]);
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if !CLASSIC_TYPES.contains(&msg_type)
        || cookie == MAGIC_COOKIE
        || len % 4 != 0
        || HEADER_LEN + len != buf.len()
    {
        return None;
    }
    // Every attribute must be a known classic one and the list must end exactly.
    let mut off = HEADER_LEN;
    while off < buf.len() {
        let t = u16::from_be_bytes([*buf.get(off)?, *buf.get(off + 1)?]);
        let l = usize::from(u16::from_be_bytes([*buf.get(off + 2)?, *buf.get(off + 3)?]));
        if !((0x0001..=0x000b).contains(&t) || t >= 0x8000) {
            return None;
        }
        off += 4 + l;
    }
    if off != buf.len() {
        return None;
    }
    Some(parse_unchecked(buf, true))
}

/// Parses header and attributes of a message whose header was already validated and
/// that `buf` holds exactly.
fn parse_unchecked(buf: &[u8], classic: bool) -> Message {
    let msg_type = u16::from_be_bytes([buf[0], buf[1]]) & 0x3FFF;
    let (class, method) = split_type(msg_type);
    let mut key = [0u8; 16];
    key.copy_from_slice(&buf[4..20]);
    let attrs = parse_attributes(&buf[HEADER_LEN..], &key);
    Message {
        msg_type,
        class,
        method,
        key,
        classic,
        len: buf.len(),
        attrs,
    }
}

/// Walks the TLV attribute list (values padded to 4 bytes).
fn parse_attributes(mut b: &[u8], key: &[u8; 16]) -> Attributes {
    let mut a = Attributes::default();
    let mut pos = HEADER_LEN;
    while !b.is_empty() {
        if b.len() < 4 {
            a.malformed = true;
            break;
        }
        let t = u16::from_be_bytes([b[0], b[1]]);
        let l = usize::from(u16::from_be_bytes([b[2], b[3]]));
        let Some(v) = b.get(4..4 + l) else {
            a.malformed = true;
            break;
        };
        match t {
            attr::USERNAME => a.username = Some(String::from_utf8_lossy(v).into_owned()),
            attr::PRIORITY if l == 4 => {
                a.priority = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
            }
            attr::USE_CANDIDATE => a.use_candidate = true,
            attr::ICE_CONTROLLING => a.ice_controlling = true,
            attr::ICE_CONTROLLED => a.ice_controlled = true,
            attr::XOR_MAPPED_ADDRESS => a.xor_mapped_address = xor_address(v, key),
            attr::MAPPED_ADDRESS => a.mapped_address = plain_address(v),
            attr::ERROR_CODE if l >= 4 => {
                a.error_code = Some(u16::from(v[2] & 0x07) * 100 + u16::from(v[3]));
                if l > 4 {
                    a.error_reason = Some(String::from_utf8_lossy(&v[4..]).into_owned());
                }
            }
            attr::DATA => a.data = Some(pos + 4..pos + 4 + l),
            _ => {}
        }
        let padded = (4 + l + 3) & !3;
        b = b.get(padded..).unwrap_or(&[]);
        pos += padded;
    }
    a
}

/// MAPPED-ADDRESS: reserved, family (1 = IPv4, 2 = IPv6), port, address.
fn plain_address(v: &[u8]) -> Option<SocketAddr> {
    let port = u16::from_be_bytes([*v.get(2)?, *v.get(3)?]);
    let ip = match v.get(1)? {
        1 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(v.get(4..8)?).ok()?)),
        2 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v.get(4..20)?).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// XOR-MAPPED-ADDRESS (RFC 8489 §14.2): the port XORed with the cookie's top 16 bits, an
/// IPv4 address with the cookie, an IPv6 address with cookie + transaction id.
fn xor_address(v: &[u8], key: &[u8; 16]) -> Option<SocketAddr> {
    let port = u16::from_be_bytes([*v.get(2)?, *v.get(3)?]) ^ u16::from_be_bytes([key[0], key[1]]);
    let ip = match v.get(1)? {
        1 => {
            let mut a: [u8; 4] = v.get(4..8)?.try_into().ok()?;
            for (x, k) in a.iter_mut().zip(&key[..4]) {
                *x ^= k;
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        2 => {
            let mut a: [u8; 16] = v.get(4..20)?.try_into().ok()?;
            for (x, k) in a.iter_mut().zip(key.iter()) {
                *x ^= k;
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// What the next bytes of a TCP stream carrying STUN hold.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamItem {
    /// A STUN message of this many bytes (after `skip` framing bytes).
    Stun { skip: usize, len: usize },
    /// Bytes to skip that are not STUN (TURN ChannelData, framed media).
    Other(usize),
    /// Not enough bytes yet.
    Incomplete,
    /// The stream does not (any more) look like STUN.
    Invalid,
}

/// Frames the next item of a STUN-over-TCP stream: plain STUN (RFC 8489 §6.2.2) with TURN
/// ChannelData (channels 0x4000-0x7FFF of RFC 5766 §11, padded to 4 bytes over TCP), or the 2-byte length prefix of
/// RFC 4571 (ICE-TCP, RFC 6544) around STUN or media.
pub fn next_in_stream(buf: &[u8], rfc4571: bool) -> StreamItem {
    if rfc4571 {
        if buf.len() < 2 {
            return StreamItem::Incomplete;
        }
        let n = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
        if buf.len() < 2 + n {
            return StreamItem::Incomplete;
        }
        let inner = &buf[2..2 + n];
        return match header_len(inner) {
            Some(len) if len == n => StreamItem::Stun { skip: 2, len },
            _ => StreamItem::Other(2 + n),
        };
    }
    if buf.len() < 4 {
        return StreamItem::Incomplete;
    }
    match buf[0] {
        0x00..=0x3F => {
            if buf.len() < HEADER_LEN {
                return StreamItem::Incomplete;
            }
            match header_len(buf) {
                Some(len) if buf.len() >= len => StreamItem::Stun { skip: 0, len },
                Some(_) => StreamItem::Incomplete,
                None => StreamItem::Invalid,
            }
        }
        0x40..=0x7F => {
            let n = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            let total = (4 + n + 3) & !3;
            if buf.len() < total {
                StreamItem::Incomplete
            } else {
                StreamItem::Other(total)
            }
        }
        _ => StreamItem::Invalid,
    }
}

/// Whether the first bytes of a TCP stream look like STUN: `Some(false)` plain,
/// `Some(true)` with an RFC 4571 length prefix.
pub fn stream_start(buf: &[u8]) -> Option<bool> {
    if header_len(buf).is_some() {
        return Some(false);
    }
    let n = usize::from(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]));
    let inner = buf.get(2..)?;
    (header_len(inner) == Some(n)).then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a message: type, transaction id, attributes (type, value).
    pub(crate) fn build(t: u16, tid: [u8; 12], attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (at, v) in attrs {
            body.extend_from_slice(&at.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let mut m = Vec::new();
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&tid);
        m.extend_from_slice(&body);
        m
    }

    const TID: [u8; 12] = [
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ];

    #[test]
    fn binding_request_with_ice_attributes() {
        let m = build(
            0x0001,
            TID,
            &[
                (attr::USERNAME, b"Sv4k:Xc9f"),
                (attr::PRIORITY, &0x6e0001ffu32.to_be_bytes()),
                (attr::ICE_CONTROLLING, &[0; 8]),
                (attr::USE_CANDIDATE, &[]),
            ],
        );
        let s = parse(&m).expect("valid STUN");
        assert_eq!((s.class, s.method), (Class::Request, METHOD_BINDING));
        assert!(!s.classic);
        assert_eq!(s.transaction_hex(), "b7e7a701bc34d686fa87dfae");
        assert_eq!(s.type_hex(), "0x0001");
        assert_eq!(s.describe(), "Binding request");
        assert_eq!(s.attrs.username.as_deref(), Some("Sv4k:Xc9f"));
        assert_eq!(s.attrs.priority, Some(0x6e0001ff));
        assert!(s.attrs.ice_controlling && !s.attrs.ice_controlled);
        assert!(s.attrs.use_candidate);
        assert!(!s.attrs.malformed);
    }

    #[test]
    fn rejects_bad_cookie_length_and_top_bits() {
        let good = build(0x0001, TID, &[(attr::USERNAME, b"a:b")]);
        assert!(parse(&good).is_some());
        let mut bad = good.clone();
        bad[4] ^= 1; // cookie
        assert!(parse(&bad).is_none());
        let mut bad = good.clone();
        bad[3] += 4; // length beyond the datagram
        assert!(parse(&bad).is_none());
        let mut bad = good.clone();
        bad[3] -= 2; // not a multiple of 4
        assert!(parse(&bad).is_none());
        let mut bad = good.clone();
        bad[0] |= 0x80; // RTP-like first byte
        assert!(parse(&bad).is_none());
        let mut long = good.clone();
        long.extend_from_slice(&[0; 4]); // trailing bytes
        assert!(parse(&long).is_none());
        assert!(parse(&good[..19]).is_none());
    }

    #[test]
    fn rfc5769_xor_mapped_address_v4_and_v6() {
        // RFC 5769 §2.2 / §2.3: 192.0.2.1:32853 and 2001:db8:1234:5678:11:2233:4455:6677:32853.
        let v4 = [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43];
        let m = build(0x0101, TID, &[(attr::XOR_MAPPED_ADDRESS, &v4)]);
        let s = parse(&m).unwrap();
        assert_eq!(s.class, Class::Success);
        assert_eq!(
            s.attrs.xor_mapped_address,
            Some("192.0.2.1:32853".parse().unwrap())
        );
        let v6 = [
            0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25,
            0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        ];
        let m = build(0x0101, TID, &[(attr::XOR_MAPPED_ADDRESS, &v6)]);
        let s = parse(&m).unwrap();
        assert_eq!(
            s.attrs.xor_mapped_address,
            Some(
                "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
                    .parse()
                    .unwrap()
            )
        );
    }

    #[test]
    fn error_code_and_classes() {
        let m = build(
            0x0111,
            TID,
            &[(attr::ERROR_CODE, &[0, 0, 4, 87, b'R', b'o', b'l', b'e'])],
        );
        let s = parse(&m).unwrap();
        assert_eq!(s.class, Class::Error);
        assert_eq!(s.attrs.error_code, Some(487));
        assert_eq!(s.attrs.error_reason.as_deref(), Some("Role"));
        assert_eq!(split_type(0x0016), (Class::Indication, 0x006));
        assert_eq!(split_type(0x0113), (Class::Error, 0x003));
        assert_eq!(split_type(0x0103), (Class::Success, 0x003));
        assert_eq!(describe(0x0113), "Allocate error response");
    }

    #[test]
    fn truncated_attribute_is_marked() {
        let mut m = build(0x0001, TID, &[(attr::USERNAME, b"abcd")]);
        m[22..24].copy_from_slice(&40u16.to_be_bytes()); // attribute longer than the message
        let s = parse(&m).unwrap();
        assert!(s.attrs.malformed);
        assert_eq!(s.attrs.username, None);
    }

    #[test]
    fn classic_stun() {
        let mut m = vec![0x00, 0x01, 0x00, 0x08];
        m.extend_from_slice(&[7u8; 16]);
        m.extend_from_slice(&[0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0]); // CHANGE-REQUEST
        let s = parse_classic(&m).expect("classic binding request");
        assert!(s.classic);
        assert_eq!(s.transaction_hex().len(), 32);
        assert!(parse(&m).is_none(), "no cookie: not RFC 5389");
        let mut bad = m.clone();
        bad[20..22].copy_from_slice(&0x0030u16.to_be_bytes()); // unknown attribute
        assert!(parse_classic(&bad).is_none());
        let mut bad = m.clone();
        bad[1] = 0x05; // unknown type
        assert!(parse_classic(&bad).is_none());
    }

    #[test]
    fn stream_framing() {
        let a = build(0x0001, TID, &[(attr::USERNAME, b"a:b")]);
        assert_eq!(stream_start(&a), Some(false));
        assert_eq!(
            next_in_stream(&a, false),
            StreamItem::Stun {
                skip: 0,
                len: a.len()
            }
        );
        assert_eq!(next_in_stream(&a[..10], false), StreamItem::Incomplete);
        let mut framed = (a.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&a);
        assert_eq!(stream_start(&framed), Some(true));
        assert_eq!(
            next_in_stream(&framed, true),
            StreamItem::Stun {
                skip: 2,
                len: a.len()
            }
        );
        // ChannelData of 5 bytes is padded to 12 over TCP.
        let cd = [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0];
        assert_eq!(next_in_stream(&cd, false), StreamItem::Other(12));
        assert_eq!(next_in_stream(&[0xff; 24], false), StreamItem::Invalid);
        assert_eq!(stream_start(b"INVITE sip:bob@example.com SIP/2.0"), None);
    }
}
