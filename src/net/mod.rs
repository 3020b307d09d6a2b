//! Stage 2: [`Frame`] → [`Packet`].
//!
//! Input: frames from [`crate::capture`]. Output, through a callback and in capture order:
//! UDP (and SCTP DATA) payloads as [`Datagram`]s — rebuilt from IP fragments where needed —,
//! TCP payloads as ordered [`StreamEvent`]s from [`tcp::Reassembler`], and ICMP errors that
//! quote a UDP/TCP datagram as [`IcmpError`] evidence.
//!
//! Invariants: knows nothing of SIP; never fails (undecodable frames are counted); bad
//! checksums are ignored on purpose (loopback and offloading NICs capture them unfinished);
//! the common path (an unfragmented UDP datagram) borrows the frame's bytes and allocates
//! nothing. Memory is bounded by `defrag` and [`tcp`] limits.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use etherparse::{IpNumber, Ipv6ExtensionSlice, LaxIpSlice, TcpSlice, UdpSlice};
use serde::Serialize;

use crate::capture::{Frame, Timestamp};

mod addr;
mod anomalies;
mod defrag;
mod link;
mod sctp;
pub mod tcp;

pub use addr::PackedAddr;
pub use tcp::{Flow, StreamEvent};
// The link layers, also for `--redact`, which rewrites frames before this stage.
pub(crate) use link::{gre, gtp_u, linktype, strip_link};

/// How a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    Sctp,
    Tls,
    Ws,
}

impl Transport {
    /// The lower-case name, as shown and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Sctp => "sctp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole UDP or SCTP payload.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// The frame that completed the datagram (its last IP fragment).
    pub frame: u64,
    /// Every frame that carried part of it.
    pub frames: &'a [u64],
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub payload: &'a [u8],
    /// The capture cut the frame short: the payload is incomplete.
    pub cut: bool,
}

/// An ICMP/ICMPv6 error quoting a datagram that was refused on its way.
#[derive(Debug, Clone, Serialize)]
pub struct IcmpError {
    pub frame: u64,
    pub time: Timestamp,
    /// Who sent the ICMP error.
    pub reporter: IpAddr,
    /// The refused datagram's source and destination.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub description: &'static str,
}

/// What the network stage hands on.
#[derive(Debug)]
pub enum Packet<'a> {
    Datagram(Datagram<'a>),
    Stream(StreamEvent<'a>),
    Icmp(IcmpError),
}

/// Frames skipped for one reason: their count and the first `Skipped::KEPT` frame numbers.
#[derive(Debug, Default, Clone)]
pub struct Skipped {
    pub count: u64,
    pub first_frames: Vec<u64>,
}

impl Skipped {
    const KEPT: usize = 5;

    fn add(&mut self, frame: u64) {
        self.count += 1;
        if self.first_frames.len() < Self::KEPT {
            self.first_frames.push(frame);
        }
    }
}

/// Counters kept for the report.
#[derive(Debug, Default, Clone)]
pub struct NetStats {
    /// Frames whose link type sipdiag does not decode, by link type: how many, and the
    /// first few frame numbers (cited, so that a Wireshark filter shows them).
    pub unknown_linktypes: BTreeMap<u32, Skipped>,
    /// ERF records of a type sipdiag does not decode (ATM, HDLC, …), by ERF type.
    pub unknown_erf_types: BTreeMap<u8, Skipped>,
    /// Frames that carried no IP (ARP, LLDP, …).
    pub non_ip: u64,
    pub udp: u64,
    pub tcp: u64,
}

const UDP: u8 = 17;
const TCP: u8 = 6;
const SCTP: u8 = 132;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const GRE: u8 = 47;
const IPIP: u8 = 4;
const IPV6_IN_IP: u8 = 41;
const GTP_U_PORT: u16 = 2152;
const MAX_TUNNEL_DEPTH: u8 = 4;

/// Turns frames into packets; holds the defragmentation and reassembly state.
#[derive(Default)]
pub struct Decoder {
    defrag: defrag::Defragmenter,
    tcp: tcp::Reassembler,
    sctp: sctp::Sctp,
    pub stats: NetStats,
    last_frame: u64,
    /// UDP payloads this rejects are counted and dropped before a [`Datagram`] is made
    /// (see [`Decoder::keep_datagrams`]).
    keep: Option<fn(&[u8]) -> bool>,
}

/// Where a transport payload came from.
#[derive(Clone, Copy)]
struct Origin<'f> {
    frame: u64,
    frames: &'f [u64],
    time: Timestamp,
    cut: bool,
}

impl Decoder {
    /// Hands on only the UDP datagrams whose payload `keep` accepts: a consumer that looks
    /// for one protocol says so, and the bulk of a capture (RTP) costs no more than its
    /// header checks.
    pub fn keep_datagrams(&mut self, keep: fn(&[u8]) -> bool) {
        self.keep = Some(keep);
    }

    /// Decodes one frame; `out` receives zero or more packets.
    pub fn decode(&mut self, frame: &Frame<'_>, out: &mut dyn FnMut(Packet<'_>)) {
        self.last_frame = frame.number;
        // The bulk of any capture (RTP): Ethernet, IPv4 without options or fragments, UDP.
        if frame.linktype == link::linktype::ETHERNET
            && frame.data.get(12..14) == Some(&[0x08, 0x00])
            && let Some((src, dst, payload, cut)) = ipv4_udp_fast(&frame.data[14..])
        {
            let origin = Origin {
                frame: frame.number,
                frames: std::slice::from_ref(&frame.number),
                time: frame.time,
                cut: frame.is_cut() || cut,
            };
            return self.udp(src, dst, payload, origin, 0, out);
        }
        let Some((_, ip)) = link::strip_link(frame.linktype, frame.data) else {
            if let Some(t) = link::erf_undecoded_type(frame.linktype, frame.data) {
                self.stats
                    .unknown_erf_types
                    .entry(t)
                    .or_default()
                    .add(frame.number);
            } else if link::is_supported(frame.linktype) {
                self.stats.non_ip += 1;
            } else {
                self.stats
                    .unknown_linktypes
                    .entry(frame.linktype)
                    .or_default()
                    .add(frame.number);
            }
            return;
        };
        let origin = Origin {
            frame: frame.number,
            frames: std::slice::from_ref(&frame.number),
            time: frame.time,
            cut: frame.is_cut(),
        };
        self.ip(ip, origin, 0, out);
    }

    fn ip(&mut self, data: &[u8], o: Origin<'_>, depth: u8, out: &mut dyn FnMut(Packet<'_>)) {
        // Fast path for the bulk of any capture (RTP): an unfragmented IPv4 packet without
        // options carrying UDP. A few header checks, no allocation.
        if let Some((src, dst, payload, cut)) = ipv4_udp_fast(data) {
            return self.udp(
                src,
                dst,
                payload,
                Origin {
                    cut: o.cut || cut,
                    ..o
                },
                depth,
                out,
            );
        }
        let Ok((ip, _)) = LaxIpSlice::from_slice(data) else {
            self.stats.non_ip += 1;
            return;
        };
        let src = ip.source_addr();
        let dst = ip.destination_addr();
        let payload = ip.payload();
        let proto = payload.ip_number.0;
        let cut = o.cut || payload.incomplete;
        if payload.fragmented {
            let Some((id, offset, more)) = fragment_info(&ip) else {
                return;
            };
            let key = defrag::FragKey {
                src,
                dst,
                id,
                proto,
            };
            if let Some(whole) =
                self.defrag
                    .add(key, offset, more, payload.payload, o.frame, o.time)
            {
                let origin = Origin {
                    frames: &whole.frames,
                    cut,
                    ..o
                };
                self.transport(proto, src, dst, &whole.payload, origin, depth, out);
            }
            return;
        }
        self.transport(
            proto,
            src,
            dst,
            payload.payload,
            Origin { cut, ..o },
            depth,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn transport(
        &mut self,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        data: &[u8],
        o: Origin<'_>,
        depth: u8,
        out: &mut dyn FnMut(Packet<'_>),
    ) {
        match proto {
            UDP => self.udp(src, dst, data, o, depth, out),
            TCP => {
                let Ok(tcp) = TcpSlice::from_slice(data) else {
                    return;
                };
                self.stats.tcp += 1;
                let seg = tcp::Segment {
                    flow: Flow {
                        src: SocketAddr::new(src, tcp.source_port()),
                        dst: SocketAddr::new(dst, tcp.destination_port()),
                    },
                    seq: tcp.sequence_number(),
                    syn: tcp.syn(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                    payload: tcp.payload(),
                    frame: o.frame,
                    time: o.time,
                };
                self.tcp.push(seg, &mut |e| out(Packet::Stream(e)));
            }
            SCTP => {
                let (Some(sp), Some(dp)) = (data.get(0..2), data.get(2..4)) else {
                    return;
                };
                let src = SocketAddr::new(src, u16::from_be_bytes([sp[0], sp[1]]));
                let dst = SocketAddr::new(dst, u16::from_be_bytes([dp[0], dp[1]]));
                self.sctp.packet(data, src, dst, o.frame, &mut |m| {
                    out(Packet::Datagram(Datagram {
                        frame: o.frame,
                        frames: m.frames,
                        time: o.time,
                        src,
                        dst,
                        transport: Transport::Sctp,
                        payload: m.data,
                        cut: o.cut,
                    }))
                });
            }
            IPIP | IPV6_IN_IP if depth < MAX_TUNNEL_DEPTH => self.ip(data, o, depth + 1, out),
            GRE if depth < MAX_TUNNEL_DEPTH => {
                if let Some((_, inner)) = link::gre(data) {
                    self.ip(inner, o, depth + 1, out);
                }
            }
            ICMP | ICMPV6 => {
                if let Some(e) = icmp_error(proto, src, data, o) {
                    out(Packet::Icmp(e));
                }
            }
            _ => {}
        }
    }

    /// A UDP header and payload (`data` starts at the UDP header).
    fn udp(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        data: &[u8],
        o: Origin<'_>,
        depth: u8,
        out: &mut dyn FnMut(Packet<'_>),
    ) {
        let Ok(udp) = UdpSlice::from_slice_lax(data) else {
            return;
        };
        self.stats.udp += 1;
        let (sp, dp) = (udp.source_port(), udp.destination_port());
        if (sp == GTP_U_PORT || dp == GTP_U_PORT)
            && depth < MAX_TUNNEL_DEPTH
            && let Some((_, inner)) = link::gtp_u(udp.payload())
        {
            self.ip(inner, o, depth + 1, out);
            return;
        }
        if self.keep.is_some_and(|keep| !keep(udp.payload())) {
            return;
        }
        out(Packet::Datagram(Datagram {
            frame: o.frame,
            frames: o.frames,
            time: o.time,
            src: SocketAddr::new(src, sp),
            dst: SocketAddr::new(dst, dp),
            transport: Transport::Udp,
            payload: udp.payload(),
            cut: o.cut,
        }));
    }

    /// End of capture: flush reassembly state (holes that never filled become gaps).
    pub fn finish(&mut self, out: &mut dyn FnMut(Packet<'_>)) {
        self.defrag.finish();
        self.sctp.finish();
        let last = self.last_frame;
        self.tcp.finish(last, &mut |e| out(Packet::Stream(e)));
    }
}

/// An IPv4 header of 20 bytes, not fragmented, protocol UDP: (source, destination, the
/// bytes from the UDP header on, cut short?). `None` sends the packet the general way.
fn ipv4_udp_fast(d: &[u8]) -> Option<(IpAddr, IpAddr, &[u8], bool)> {
    let h = d.get(..20)?;
    if h[0] != 0x45 || h[9] != UDP || u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total < 28 {
        return None;
    }
    let end = total.min(d.len());
    let src = IpAddr::from([h[12], h[13], h[14], h[15]]);
    let dst = IpAddr::from([h[16], h[17], h[18], h[19]]);
    Some((src, dst, &d[20..end], total > d.len()))
}

/// Fragment identification, offset and more-fragments flag of a fragmented packet.
fn fragment_info(ip: &LaxIpSlice<'_>) -> Option<(u32, etherparse::IpFragOffset, bool)> {
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            Some((
                u32::from(h.identification()),
                h.fragments_offset(),
                h.more_fragments(),
            ))
        }
        LaxIpSlice::Ipv6(v6) => v6.extensions().clone().into_iter().find_map(|e| match e {
            Ipv6ExtensionSlice::Fragment(f) => {
                Some((f.identification(), f.fragment_offset(), f.more_fragments()))
            }
            _ => None,
        }),
    }
}

/// An ICMP destination-unreachable (or ICMPv6 equivalent) quoting a UDP/TCP datagram.
fn icmp_error(proto: u8, reporter: IpAddr, data: &[u8], o: Origin<'_>) -> Option<IcmpError> {
    let (kind, code) = (*data.first()?, *data.get(1)?);
    let description = match (proto, kind, code) {
        (ICMP, 3, 3) | (ICMPV6, 1, 4) => "port unreachable",
        (ICMP, 3, 1) | (ICMPV6, 1, 3) => "host unreachable",
        (ICMP, 3, 0) | (ICMPV6, 1, 0) => "network unreachable",
        (ICMP, 3, 13) | (ICMP, 3, 9) | (ICMP, 3, 10) | (ICMPV6, 1, 1) => {
            "administratively prohibited"
        }
        (ICMP, 3, _) | (ICMPV6, 1, _) => "destination unreachable",
        (ICMP, 11, _) | (ICMPV6, 3, _) => "time exceeded",
        _ => return None,
    };
    let quoted = data.get(8..)?;
    let (ip, _) = LaxIpSlice::from_slice(quoted).ok()?;
    let p = ip.payload();
    let transport = match p.ip_number {
        IpNumber::UDP => Transport::Udp,
        IpNumber::TCP => Transport::Tcp,
        _ => return None,
    };
    let ports = p.payload.get(0..4)?;
    Some(IcmpError {
        frame: o.frame,
        time: o.time,
        reporter,
        src: SocketAddr::new(ip.source_addr(), u16::from_be_bytes([ports[0], ports[1]])),
        dst: SocketAddr::new(
            ip.destination_addr(),
            u16::from_be_bytes([ports[2], ports[3]]),
        ),
        transport,
        description,
    })
}
