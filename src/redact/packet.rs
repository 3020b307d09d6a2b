//! Packets under `--redact`: each frame's link, IP and transport headers and payload.
//!
//! Input: one frame's bytes (a copy the [`super::Redactor`] owns) and its link
//! type. Output: the same bytes, same length, with MAC and IP addresses replaced by their
//! tokens, SIP text redacted ([`super::text`]), STUN addresses rewritten, RTP payloads
//! (voice) zeroed, and every other payload blanked. Headers the diagnosis reads stay:
//! ports, lengths, TCP sequence numbers, RTP/RTCP headers, STUN types and transaction ids.
//!
//! Checksums follow the new bytes where they can: the IPv4 header checksum always; TCP
//! and ICMP when the segment is whole; UDP over IPv4 is set to 0 ("no checksum", RFC 768);
//! UDP over IPv6 is recomputed when the datagram is whole and unfragmented. (sipdiag
//! itself ignores transport checksums; Wireshark flags wrong ones.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Redactor;
use super::text;

/// How the payloads of one TCP direction are treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TcpMode {
    /// SIP seen: text redaction; the unredacted last line of the previous segment when it
    /// did not end (at most [`MAX_PARTIAL`] bytes), and the sequence number a segment
    /// continuing it starts with (a retransmission or a segment out of order does not).
    Text(Vec<u8>, u32),
    /// TLS records: the first record header stays, the rest is blanked.
    Tls,
}

/// The longest unfinished line carried from one TCP segment to the next.
const MAX_PARTIAL: usize = 1024;

/// What the first fragment of a fragmented datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FragClass {
    Text,
    Other,
}

/// The most TCP directions and fragmented datagrams remembered; beyond, the tables start
/// over (hostile input must not make them grow without bound).
const MAX_STATE: usize = 65_536;

/// GTP-U's UDP port (3GPP TS 29.281).
const GTP_U_PORT: u16 = 2152;

const STUN_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

impl Redactor {
    /// Rewrites `d`, a frame captured with link type `linktype`, in place.
    pub(super) fn rewrite_frame(&mut self, linktype: u32, d: &mut [u8]) {
        let Some((_, ip)) = crate::net::strip_link(linktype, d) else {
            // Not IP (ARP, an unknown link type …): nothing sipdiag reads, all blanked
            // after a link header whose addresses are rewritten.
            let keep = self.link_addresses(linktype, d);
            blank(d, keep);
            return;
        };
        let off = ip.as_ptr() as usize - d.as_ptr() as usize;
        self.link_addresses(linktype, d);
        self.ip(&mut d[off..], 0);
    }

    /// Rewrites the MAC addresses of the link header; returns the header's length.
    fn link_addresses(&self, linktype: u32, d: &mut [u8]) -> usize {
        let mac_at = |at: usize, d: &mut [u8]| {
            if let Some(m) = d.get_mut(at..at + 6) {
                let t = self.key.mac(m.try_into().unwrap_or([0xff; 6]));
                m.copy_from_slice(&t);
            }
        };
        match linktype {
            crate::net::linktype::ETHERNET => {
                mac_at(0, d);
                mac_at(6, d);
                14
            }
            crate::net::linktype::LINUX_SLL => {
                if d.get(4..6) == Some(&[0, 6]) {
                    mac_at(6, d);
                }
                16
            }
            crate::net::linktype::LINUX_SLL2 => {
                if d.get(11) == Some(&6) {
                    mac_at(12, d);
                }
                20
            }
            crate::net::linktype::ERF => 16,
            _ => 0,
        }
    }

    /// An IP packet (IPv4 or IPv6) at the start of `d`; `depth` counts tunnels and ICMP
    /// quotes.
    fn ip(&mut self, d: &mut [u8], depth: u8) {
        if depth > 4 || d.is_empty() {
            return blank(d, 0);
        }
        match d[0] >> 4 {
            4 => self.ipv4(d, depth),
            6 => self.ipv6(d, depth),
            _ => blank(d, 0),
        }
    }

    fn ipv4(&mut self, d: &mut [u8], depth: u8) {
        let ihl = usize::from(d[0] & 0x0f) * 4;
        if d.len() < 20 || ihl < 20 || d.len() < ihl {
            return blank(d, 0);
        }
        let src = Ipv4Addr::new(d[12], d[13], d[14], d[15]);
        let dst = Ipv4Addr::new(d[16], d[17], d[18], d[19]);
        d[12..16].copy_from_slice(&self.key.ipv4(src).octets());
        d[16..20].copy_from_slice(&self.key.ipv4(dst).octets());
        d[10..12].fill(0);
        let sum = checksum(&[&d[..ihl]]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
        // 0 (segmentation offload) or longer than captured: what was captured.
        let whole = total >= ihl && total <= d.len();
        let end = if whole { total } else { d.len() };
        let frag = u16::from_be_bytes([d[6], d[7]]);
        let (more, offset) = (frag & 0x2000 != 0, frag & 0x1fff);
        let id = u32::from(u16::from_be_bytes([d[4], d[5]]));
        let proto = d[9];
        let t = Transport {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            new: (
                IpAddr::V4(self.key.ipv4(src)),
                IpAddr::V4(self.key.ipv4(dst)),
            ),
            proto,
            whole: whole && !more && offset == 0,
            fragment: (more || offset != 0).then_some(id),
        };
        if offset != 0 {
            return self.later_fragment(&t, &mut d[ihl..end]);
        }
        self.transport(&t, &mut d[ihl..end], depth);
        blank(&mut d[end..], 0); // Ethernet padding
    }

    fn ipv6(&mut self, d: &mut [u8], depth: u8) {
        if d.len() < 40 {
            return blank(d, 0);
        }
        let addr = |b: &[u8]| Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap_or_default());
        let (src, dst) = (addr(&d[8..24]), addr(&d[24..40]));
        let (s2, d2) = (self.key.ipv6(src), self.key.ipv6(dst));
        d[8..24].copy_from_slice(&s2.octets());
        d[24..40].copy_from_slice(&d2.octets());
        let plen = usize::from(u16::from_be_bytes([d[4], d[5]]));
        let whole = plen > 0 && 40 + plen <= d.len();
        let end = if whole { 40 + plen } else { d.len() };
        // Extension headers up to the transport.
        let (mut next, mut at) = (d[6], 40);
        let mut fragment = None;
        let mut later = false;
        loop {
            match next {
                0 | 43 | 60 if at + 8 <= end => {
                    next = d[at];
                    at += (usize::from(d[at + 1]) + 1) * 8;
                }
                44 if at + 8 <= end => {
                    next = d[at];
                    let fo = u16::from_be_bytes([d[at + 2], d[at + 3]]);
                    later = fo >> 3 != 0;
                    let id = u32::from_be_bytes([d[at + 4], d[at + 5], d[at + 6], d[at + 7]]);
                    fragment = Some(id);
                    at += 8;
                }
                _ => break,
            }
        }
        if at > end {
            return blank(&mut d[40..], 0);
        }
        let t = Transport {
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            new: (IpAddr::V6(s2), IpAddr::V6(d2)),
            proto: next,
            whole: whole && fragment.is_none(),
            fragment,
        };
        if later {
            return self.later_fragment(&t, &mut d[at..end]);
        }
        self.transport(&t, &mut d[at..end], depth);
        blank(&mut d[end..], 0);
    }

    /// A fragment after the first: treated as the first one was (SIP text or not); when
    /// the first is unknown, text is redacted as SIP and anything else blanked.
    fn later_fragment(&mut self, t: &Transport, p: &mut [u8]) {
        let class = t
            .fragment
            .and_then(|id| self.frags.get(&(t.src, t.dst, id)).copied())
            .unwrap_or(if is_text(p) {
                FragClass::Text
            } else {
                FragClass::Other
            });
        match class {
            FragClass::Text => text::sip(&self.key, p),
            FragClass::Other => blank(p, 0),
        }
    }

    fn transport(&mut self, t: &Transport, p: &mut [u8], depth: u8) {
        match t.proto {
            17 if p.len() >= 8 => {
                // GTP-U: the inner packet is redacted the same way (as `net` reads it).
                let ports = [
                    u16::from_be_bytes([p[0], p[1]]),
                    u16::from_be_bytes([p[2], p[3]]),
                ];
                if ports.contains(&GTP_U_PORT)
                    && let Some((_, inner)) = crate::net::gtp_u(&p[8..])
                {
                    let at = inner.as_ptr() as usize - p.as_ptr() as usize;
                    self.ip(&mut p[at..], depth + 1);
                    p[6..8].fill(0);
                    return;
                }
                let class = self.udp_payload(&mut p[8..]);
                if let Some(id) = t.fragment {
                    if self.frags.len() >= MAX_STATE {
                        self.frags.clear();
                    }
                    self.frags.insert((t.src, t.dst, id), class);
                }
                match t.new {
                    (IpAddr::V4(_), _) => p[6..8].fill(0),
                    _ if t.whole => l4_checksum(t, p, 6),
                    _ => {}
                }
            }
            6 if p.len() >= 20 => {
                let hl = (usize::from(p[12] >> 4) * 4).clamp(20, p.len());
                let flow = (
                    t.src,
                    u16::from_be_bytes([p[0], p[1]]),
                    t.dst,
                    u16::from_be_bytes([p[2], p[3]]),
                );
                let seq = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
                self.tcp_payload(flow, seq, &mut p[hl..]);
                if t.whole {
                    l4_checksum(t, p, 16);
                }
            }
            132 if p.len() >= 12 => sctp(self, &mut p[12..]),
            1 | 58 if p.len() >= 8 => {
                let error = if t.proto == 1 {
                    matches!(p[0], 3 | 4 | 5 | 11 | 12)
                } else {
                    (1..=4).contains(&p[0])
                };
                if error {
                    self.ip(&mut p[8..], depth + 1);
                } else {
                    blank(&mut p[8..], 0);
                }
                if t.whole {
                    if t.proto == 1 {
                        p[2..4].fill(0);
                        let sum = checksum(&[p]);
                        p[2..4].copy_from_slice(&sum.to_be_bytes());
                    } else {
                        l4_checksum(t, p, 2);
                    }
                }
            }
            // IP in IP and GRE: the inner packet is redacted the same way. (The headers
            // between, GRE/ERSPAN and a bridged Ethernet header, stay as they are: `net`
            // reads them again.)
            4 | 41 => self.ip(p, depth + 1),
            47 => match crate::net::gre(p) {
                Some((_, inner)) => {
                    let at = inner.as_ptr() as usize - p.as_ptr() as usize;
                    self.ip(&mut p[at..], depth + 1);
                }
                None => blank(p, 0),
            },
            _ => blank(p, 0),
        }
    }

    /// A UDP payload, by what it is: SIP, STUN, RTP/RTCP, DTLS or anything else.
    fn udp_payload(&mut self, p: &mut [u8]) -> FragClass {
        if crate::sip::sip_start(p).is_some() {
            text::sip(&self.key, p);
            return FragClass::Text;
        }
        match p.first().copied() {
            // Keep-alives (CRLF) say nothing about anyone.
            _ if p.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) => {}
            Some(0..=3) if p.len() >= 20 => stun(self, p),
            Some(128..=191) if p.len() >= 2 && (192..=223).contains(&p[1]) => rtcp(self, p),
            Some(128..=191) => rtp(p),
            // DTLS: the 13-byte record header stays (content type, version, epoch …).
            Some(20..=63) => blank(p, 13),
            // Anything else keeps its first byte, which is what classifies it.
            _ => blank(p, 1),
        }
        FragClass::Other
    }

    fn tcp_payload(&mut self, flow: (IpAddr, u16, IpAddr, u16), seq: u32, p: &mut [u8]) {
        if p.is_empty() {
            return;
        }
        let partial = match self.tcp.get_mut(&flow) {
            Some(TcpMode::Tls) => return blank(p, 0),
            Some(TcpMode::Text(partial, next)) if *next == seq => std::mem::take(partial),
            Some(TcpMode::Text(..)) => Vec::new(),
            // TLS: the first record header stays, as the SIP stage tells TLS by it.
            None if p.len() >= 3 && (0x14..=0x17).contains(&p[0]) && p[1] == 3 => {
                blank(p, 5);
                self.remember(flow, TcpMode::Tls);
                return;
            }
            None if memchr::memmem::find(p, b"SIP/2.0").is_some() => Vec::new(),
            None => return blank(p, 1),
        };
        // What the next segment's first line continues, taken before redaction.
        let next = match memchr::memrchr(b'\n', p) {
            Some(nl) => p[nl + 1..].to_vec(),
            None => [&partial[..], p].concat(),
        };
        text::sip_continued(&self.key, &partial, p);
        let next = if next.len() > MAX_PARTIAL {
            Vec::new()
        } else {
            next
        };
        let next_seq = seq.wrapping_add(p.len() as u32);
        self.remember(flow, TcpMode::Text(next, next_seq));
    }

    fn remember(&mut self, flow: (IpAddr, u16, IpAddr, u16), mode: TcpMode) {
        if self.tcp.len() >= MAX_STATE && !self.tcp.contains_key(&flow) {
            self.tcp.clear();
        }
        self.tcp.insert(flow, mode);
    }
}

/// The facts of one IP packet its transport needs.
struct Transport {
    src: IpAddr,
    dst: IpAddr,
    /// The rewritten addresses, for the checksums' pseudo-header.
    new: (IpAddr, IpAddr),
    proto: u8,
    /// All of the transport segment is here (not cut, not fragmented).
    whole: bool,
    /// The fragment identification, when fragmented.
    fragment: Option<u32>,
}

/// Zeroes `p` after its first `keep` bytes.
fn blank(p: &mut [u8], keep: usize) {
    if p.len() > keep {
        p[keep..].fill(0);
    }
}

/// Mostly printable text (a fragment of SIP, when the first fragment was not seen).
fn is_text(p: &[u8]) -> bool {
    !p.is_empty()
        && p.iter()
            .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
}

/// RTP: the header (with CSRCs and extension) stays, the voice is zeroed, padding stays.
fn rtp(p: &mut [u8]) {
    if p.len() < 12 {
        return blank(p, 1);
    }
    let mut hl = 12 + usize::from(p[0] & 0x0f) * 4;
    if p[0] & 0x10 != 0 && p.len() >= hl + 4 {
        hl += 4 + usize::from(u16::from_be_bytes([p[hl + 2], p[hl + 3]])) * 4;
    }
    let pad = if p[0] & 0x20 != 0 {
        usize::from(*p.last().unwrap_or(&0))
    } else {
        0
    };
    let end = p.len().saturating_sub(pad).max(hl.min(p.len()));
    if hl < end {
        p[hl..end].fill(0);
    }
}

/// RTCP: reports stay (they are counters); SDES item texts (CNAME = user@host) and BYE
/// reasons become name tokens; APP data is blanked.
fn rtcp(r: &Redactor, p: &mut [u8]) {
    let mut at = 0;
    while at + 4 <= p.len() {
        let len = (usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]])) + 1) * 4;
        let end = (at + len).min(p.len());
        let (count, pt) = (usize::from(p[at] & 0x1f), p[at + 1]);
        let body = &mut p[at + 4..end];
        match pt {
            202 => {
                let mut i = 0;
                for _ in 0..count {
                    i += 4; // SSRC/CSRC
                    while i + 2 <= body.len() && body[i] != 0 {
                        let n = usize::from(body[i + 1]);
                        let e = (i + 2 + n).min(body.len());
                        r.key.name(&mut body[i + 2..e]);
                        i = e;
                    }
                    i = (i + 4) & !3;
                }
            }
            203 => {
                let reason = count * 4;
                if reason < body.len() {
                    let n = usize::from(body[reason]);
                    let e = (reason + 1 + n).min(body.len());
                    r.key.name(&mut body[reason + 1..e]);
                }
            }
            204 => blank(body, 8),
            _ => {}
        }
        at += len;
    }
}

/// STUN: every address attribute rewritten with its token (XOR-encoded ones decoded and
/// encoded again), FINGERPRINT recomputed; the rest stays (ICE credentials, software).
fn stun(r: &Redactor, p: &mut [u8]) {
    let len = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if p[4..8] != STUN_COOKIE || 20 + len > p.len() {
        return blank(p, 1);
    }
    let txid: [u8; 12] = p[8..20].try_into().unwrap_or_default();
    let mut at = 20;
    while at + 4 <= 20 + len {
        let ty = u16::from_be_bytes([p[at], p[at + 1]]);
        let alen = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        let v = at + 4;
        if v + alen > p.len() {
            break;
        }
        match ty {
            0x0020 | 0x8020 | 0x0012 | 0x0016 => stun_address(r, &mut p[v..v + alen], Some(&txid)),
            0x0001 | 0x0004 | 0x0005 | 0x000b | 0x8023 | 0x802b | 0x802c => {
                stun_address(r, &mut p[v..v + alen], None)
            }
            0x0014 => r.key.name(&mut p[v..v + alen]), // REALM
            0x8028 if alen == 4 => {
                let crc = crc32(&p[..at]) ^ 0x5354_554e;
                p[v..v + 4].copy_from_slice(&crc.to_be_bytes());
            }
            _ => {}
        }
        at = v + alen.div_ceil(4) * 4;
    }
}

/// One (XOR-)MAPPED-ADDRESS value: reserved, family, port, address.
fn stun_address(r: &Redactor, v: &mut [u8], xor_tx: Option<&[u8; 12]>) {
    let mut pad = [0u8; 16];
    if let Some(tx) = xor_tx {
        pad[..4].copy_from_slice(&STUN_COOKIE);
        pad[4..].copy_from_slice(tx);
    }
    match (v.get(1), v.len()) {
        (Some(1), 8) => {
            let mut a = [0u8; 4];
            for i in 0..4 {
                a[i] = v[4 + i] ^ pad[i];
            }
            let t = r.key.ipv4(Ipv4Addr::from(a)).octets();
            for i in 0..4 {
                v[4 + i] = t[i] ^ pad[i];
            }
        }
        (Some(2), 20) => {
            let mut a = [0u8; 16];
            for i in 0..16 {
                a[i] = v[4 + i] ^ pad[i];
            }
            let t = r.key.ipv6(Ipv6Addr::from(a)).octets();
            for i in 0..16 {
                v[4 + i] = t[i] ^ pad[i];
            }
        }
        _ => blank(v, 0),
    }
}

/// SCTP chunks: DATA that is SIP is redacted as text, other DATA blanked. (The CRC32c
/// checksum is left as it was.)
fn sctp(r: &Redactor, p: &mut [u8]) {
    let mut at = 0;
    while at + 4 <= p.len() {
        let len = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        if len < 4 {
            break;
        }
        let end = (at + len).min(p.len());
        if p[at] == 0 && at + 16 <= end {
            let data = &mut p[at + 16..end];
            if crate::sip::sip_start(data).is_some() || is_text(data) {
                text::sip(&r.key, data);
            } else {
                blank(data, 0);
            }
        }
        at += len.div_ceil(4) * 4;
    }
}

/// The Internet checksum (RFC 1071) over the concatenated parts (each of even length
/// but the last).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for part in parts {
        let mut chunks = part.chunks_exact(2);
        for c in &mut chunks {
            sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u64::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Recomputes a TCP/UDP/ICMPv6 checksum at `at` in segment `p`, over the pseudo-header
/// of the rewritten addresses.
fn l4_checksum(t: &Transport, p: &mut [u8], at: usize) {
    if p.len() < at + 2 {
        return;
    }
    p[at..at + 2].fill(0);
    let len = p.len() as u32;
    let mut pseudo = Vec::with_capacity(40);
    match t.new {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, t.proto]);
            pseudo.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&len.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, t.proto]);
        }
        _ => return,
    }
    let mut sum = checksum(&[&pseudo, p]);
    if sum == 0 && t.proto == 17 {
        sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
    }
    p[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

/// CRC-32 (IEEE), for STUN's FINGERPRINT (RFC 8489 §14.7).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_checksum_of_a_known_header() {
        // RFC 1071 style check: a header with its checksum sums to zero.
        let h: [u8; 20] = [
            0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8,
            0, 0xc7,
        ];
        assert_eq!(checksum(&[&h]), 0);
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}
