//! Media: STUN / RTP / RTCP recognition and media flows (RFC 5389/8489, RFC 3550, RFC 7983).
//!
//! Input: non-SIP datagrams, ICMP errors and TCP stream events from [`crate::net`], plus
//! the SDP that SIP calls announced. Output: a [`MediaReport`] with STUN transactions
//! (requests paired with responses by transaction id), RTP streams with loss and jitter,
//! softphone signalling flows and ICMP evidence. Payloads are counted, never stored: one
//! hash lookup and a few counter updates per RTP packet.
//!
//! How a datagram is classified (RFC 7983 first-byte demultiplexing):
//!
//! - first byte 0-3: STUN when the RFC 5389 header holds (magic cookie, length = payload
//!   length - 20, a multiple of 4). Classic RFC 3489 STUN (no cookie) only on flows that
//!   are otherwise known to carry media: announced in SDP, already validated by STUN,
//!   with a port in the configured media ranges, or to/from the STUN port 3478.
//!   Over TCP, a stream whose first bytes are a STUN header (plain, or with the RFC 4571
//!   length prefix of ICE-TCP) is read as STUN messages and TURN ChannelData.
//! - 20-63: DTLS (counted).
//! - 128-191: RTCP when the second byte is an RTCP packet type (192-223) and the compound
//!   packet is valid (RFC 3550 §A.2); else RTP. RTP counts at once on flows announced in
//!   SDP or validated by STUN; elsewhere a flow must first show three packets of one SSRC
//!   with consecutive sequence numbers (then those first packets count too), so random
//!   UDP is not taken for RTP. RTP relayed in TURN Send/Data indications counts for the
//!   client-server addresses, as Wireshark shows it.
//!
//! Per stream: packets, loss = expected - received with extended sequence numbers
//! (RFC 3550 §A.1/§A.3, duplicates make it negative), interarrival jitter (§A.8) on the
//! stream's main payload format with its clock rate (8000 Hz for G.711/G.722/G.729,
//! 48000 for opus, 90000 for video), current, mean and maximum. These are the figures of
//! Wireshark's RTP stream statistics, except after a forward jump of 3000 or more sequence
//! numbers, which §A.1 takes for a restart of the sender rather than for loss.
//!
//! Memory is bounded: at most [`MAX_FLOWS`] UDP flows, [`MAX_STREAMS_PER_FLOW`] SSRCs per
//! flow and [`MAX_STREAMS`] in all, [`MAX_TRANSACTIONS`] STUN transactions,
//! [`MAX_TCP_FLOWS`] TCP flows examined for STUN with at most [`MAX_TCP_BUFFER`] bytes
//! buffered each.

pub mod analysis;
pub mod rtp;
pub mod stun;

/// foldhash: a per-process random seed keeps it resistant enough to crafted keys, and it is
/// several times faster than SipHash on the per-packet flow lookup.
use foldhash::HashMap;
use std::net::SocketAddr;

use serde::Serialize;

use crate::calls::Call;
use crate::capture::Timestamp;
use crate::net::{Datagram, Flow, IcmpError, StreamEvent, Transport};
use crate::rules::Finding;
use crate::sip::sdp::{Direction, Payload, Sdp};

pub use analysis::{IceSession, IceSide, Side};

/// UDP flows (one direction of an address pair) tracked at once.
pub const MAX_FLOWS: usize = 100_000;
/// SSRCs tracked per flow.
pub const MAX_STREAMS_PER_FLOW: usize = 16;
/// RTP streams (and stream candidates) tracked in all.
pub const MAX_STREAMS: usize = 200_000;
/// STUN transactions kept.
pub const MAX_TRANSACTIONS: usize = 100_000;
/// TCP directions examined for STUN (each may buffer [`MAX_TCP_BUFFER`] bytes).
pub const MAX_TCP_FLOWS: usize = 1_000;
/// Softphone signalling connections tracked.
pub const MAX_SIGNAL_FLOWS: usize = 10_000;
/// Bytes buffered per TCP direction while a STUN message is incomplete.
pub const MAX_TCP_BUFFER: usize = 70_000;
/// ICMP errors kept as evidence.
pub const MAX_ICMP: usize = 10_000;
/// SDP media addresses kept.
pub const MAX_ANNOUNCED: usize = 100_000;
/// Frames listed per transaction (retransmissions, responses).
const MAX_FRAMES_LISTED: usize = 1000;
/// The registered STUN port (RFC 8489 §18.6), where classic STUN is accepted too.
pub const STUN_PORT: u16 = 3478;
/// Frames listed per stream where a sequence gap ended.
const MAX_GAP_FRAMES: usize = 20;
/// Consecutive packets that make an unannounced flow an RTP stream.
pub const CONFIRM_PACKETS: u32 = 3;

/// Ports that define the softphone's media path (from the site profile or flags).
#[derive(Debug, Clone, Serialize)]
pub struct MediaSettings {
    /// TCP port of the softphone signalling (XPhone: 2230).
    pub softphone_port: u16,
    /// Server (XCC) RTP/ICE UDP range, inclusive.
    pub server_ports: (u16, u16),
    /// Client (softphone) RTP/ICE UDP range, inclusive.
    pub client_ports: (u16, u16),
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            softphone_port: 2230,
            server_ports: (30000, 33000),
            client_ports: (49152, 65535),
        }
    }
}

impl MediaSettings {
    /// Whether `port` lies in the server or client media range.
    pub fn is_media_port(&self, port: u16) -> bool {
        in_range(port, self.server_ports) || in_range(port, self.client_ports)
    }
}

pub(crate) fn in_range(port: u16, (lo, hi): (u16, u16)) -> bool {
    (lo..=hi).contains(&port)
}

/// A UDP payload as the media stage reads it, by its first byte (RFC 7983). Everything but
/// STUN is decided by a few header bytes: the scan reads them where the datagram is
/// decoded (the reading thread, see [`crate::app`]) and hands this on instead of the
/// payload, which then never travels to the thread that keeps the media state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpPayload {
    /// No bytes.
    Empty,
    /// First byte 20-63.
    Dtls,
    /// First byte 128-191 and an RTCP packet type (rtcp-mux); `valid`: a well-formed
    /// compound packet (RFC 3550 §A.2).
    Rtcp { valid: bool },
    /// First byte 128-191, not RTCP: the RTP header, if it parses.
    Rtp(Option<rtp::Header>),
    /// Anything else that is not STUN.
    Other,
}

impl UdpPayload {
    /// Reads `payload`; `None` when its first byte is in STUN's range (0-3): STUN
    /// messages are read whole.
    pub fn read(payload: &[u8]) -> Option<Self> {
        let Some(&b0) = payload.first() else {
            return Some(UdpPayload::Empty);
        };
        Some(match b0 {
            0..=3 => return None,
            20..=63 => UdpPayload::Dtls,
            128..=191 if payload.len() >= 2 && rtp::is_rtcp_type(payload[1]) => UdpPayload::Rtcp {
                valid: rtp::is_rtcp(payload),
            },
            128..=191 => UdpPayload::Rtp(rtp::parse(payload)),
            _ => UdpPayload::Other,
        })
    }
}

/// One STUN request and what answered it.
#[derive(Debug, Clone, Serialize)]
pub struct StunTransaction {
    /// 96-bit transaction id, hex (128 bits for classic RFC 3489 STUN).
    pub transaction_id: String,
    /// Message type of the request, e.g. `0x0001` (Binding request).
    pub method: String,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub request_frame: u64,
    pub time: Timestamp,
    /// Frames of retransmitted copies of the request.
    pub retransmission_frames: Vec<u64>,
    pub response_frame: Option<u64>,
    /// `success` or `error`.
    pub response_class: Option<String>,
    /// Where the response came from (normally `dst`).
    pub response_from: Option<SocketAddr>,
    pub error_code: Option<u16>,
    pub username: Option<String>,
    pub use_candidate: bool,
    /// ICE role attribute present: `controlling` / `controlled`.
    pub ice_role: Option<String>,
    /// Human name of the request type, e.g. `Binding request`.
    pub description: String,
    /// `udp` or `tcp`.
    pub transport: Transport,
    /// A classic RFC 3489 message (no magic cookie).
    pub classic: bool,
    /// ICE PRIORITY of the checked candidate.
    pub priority: Option<u32>,
    /// Every response frame (responses to retransmissions included).
    pub response_frames: Vec<u64>,
    /// XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) of the first success response.
    pub mapped_address: Option<SocketAddr>,
    #[serde(skip)]
    pub response_time: Option<Timestamp>,
}

impl StunTransaction {
    /// The request and every copy of it.
    pub fn request_frames(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.request_frame).chain(self.retransmission_frames.iter().copied())
    }

    pub fn answered(&self) -> bool {
        self.response_class.as_deref() == Some("success")
    }

    /// A Binding request carrying an ICE USERNAME (`<receiver ufrag>:<sender ufrag>`).
    pub fn is_ice_check(&self) -> bool {
        self.method == "0x0001" && self.username.as_deref().is_some_and(|u| u.contains(':'))
    }
}

/// One RTP stream (one SSRC in one direction).
#[derive(Debug, Clone, Serialize)]
pub struct RtpStream {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ssrc: u32,
    pub payload_type: u8,
    pub codec: Option<crate::sip::sdp::Name>,
    pub packets: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_time: Timestamp,
    pub last_time: Timestamp,
    /// Expected minus received (RFC 3550 §A.3); negative with duplicates.
    pub lost: i64,
    pub duplicates: u64,
    /// Interarrival jitter (RFC 3550 §A.8), milliseconds, at the end / at most.
    pub jitter_ms: f64,
    pub max_jitter_ms: f64,
    /// Mean of the jitter estimates over the stream, milliseconds.
    pub mean_jitter_ms: f64,
    /// The SIP call whose SDP announced this stream's destination, if any.
    pub call_id: Option<String>,
    /// Packets expected from the sequence numbers (RFC 3550 §A.3).
    pub expected: u64,
    /// Every payload type seen, in order of appearance.
    pub payload_types: Vec<u8>,
    /// Why the flow was taken for RTP: `sdp`, `stun` or `sequence`.
    pub recognised_by: &'static str,
    /// Packets that arrived after a higher sequence number.
    pub late: u64,
    /// Frames of the packets that followed a sequence gap (up to 20).
    pub gap_frames: Vec<u64>,
}

impl RtpStream {
    /// Lost packets as a fraction of the expected ones (0 when none were expected).
    pub fn loss_fraction(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.lost.max(0) as f64 / self.expected as f64
        }
    }

    pub fn ssrc_hex(&self) -> String {
        format!("0x{:08X}", self.ssrc)
    }
}

/// A softphone signalling connection (TCP on the softphone port).
#[derive(Debug, Clone, Serialize)]
pub struct SignalFlow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub last_frame: u64,
    pub segments: u64,
    /// Bytes the client sent / the server sent.
    pub client_bytes: u64,
    pub server_bytes: u64,
    pub first_time: Timestamp,
    pub last_time: Timestamp,
    /// Frames that carried data, up to 1000.
    pub frames: Vec<u64>,
}

/// A media address announced in SDP.
#[derive(Debug, Clone, Serialize)]
pub struct Announced {
    pub call_id: String,
    pub addr: SocketAddr,
    pub frame: u64,
    pub codecs: Vec<crate::sip::sdp::Name>,
    /// `audio`, `video`, …
    pub kind: crate::sip::sdp::Name,
    pub direction: Direction,
    /// ICE candidate type (`host`, `srflx`, …) when announced by `a=candidate`; `None` for
    /// the `c=`/`m=` address.
    pub candidate: Option<String>,
    pub payloads: Vec<Payload>,
    /// Non-SIP UDP datagrams seen to / from this address while it was announced.
    pub received: u64,
    pub sent: u64,
    /// RTP packets of recognised streams to / from this address.
    pub rtp_received: u64,
    pub rtp_sent: u64,
}

/// Everything the media stage found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaReport {
    pub settings: Option<MediaSettings>,
    /// RFC 5389 STUN messages (requests, responses, indications) over UDP and TCP.
    pub stun_messages: u64,
    pub stun: Vec<StunTransaction>,
    pub rtp: Vec<RtpStream>,
    pub rtcp_packets: u64,
    pub softphone: Vec<SignalFlow>,
    pub icmp: Vec<IcmpError>,
    pub announced: Vec<Announced>,
    /// Classic RFC 3489 STUN messages (not in `stun_messages`).
    pub classic_stun_messages: u64,
    pub stun_indications: u64,
    /// Responses whose request was not captured.
    pub stun_unmatched_responses: u64,
    /// Non-SIP UDP datagrams examined.
    pub udp_datagrams: u64,
    pub dtls_packets: u64,
    /// What memory limits left out (flows, transactions, …), for the report.
    pub dropped: u64,
    /// RTP streams and announcements by address, built on first use so that rules
    /// looking up each call's media stay linear in the number of calls.
    #[serde(skip)]
    pub(crate) index: std::sync::OnceLock<MediaIndex>,
}

/// A UDP flow (source, destination) as a hash key. IPv4 pairs, the bulk of any
/// capture, are packed into one 128-bit word and kept in a table of their own with small
/// entries (this lookup runs for every RTP packet, and a table of large keys misses the
/// cache on many flows); other pairs are kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FlowKey {
    V4(u128),
    Other(SocketAddr, SocketAddr),
}

impl FlowKey {
    fn new(src: SocketAddr, dst: SocketAddr) -> Self {
        match (src, dst) {
            (SocketAddr::V4(a), SocketAddr::V4(b)) => FlowKey::V4(
                (u128::from(a.ip().to_bits()) << 80)
                    | (u128::from(a.port()) << 64)
                    | (u128::from(b.ip().to_bits()) << 16)
                    | u128::from(b.port()),
            ),
            (a, b) => FlowKey::Other(a, b),
        }
    }
}

/// Flow positions by [`FlowKey`].
#[derive(Debug, Default)]
struct FlowIndex {
    v4: HashMap<u128, u32>,
    other: HashMap<(SocketAddr, SocketAddr), u32>,
}

impl FlowIndex {
    fn get(&self, key: FlowKey) -> Option<u32> {
        match key {
            FlowKey::V4(k) => self.v4.get(&k).copied(),
            FlowKey::Other(a, b) => self.other.get(&(a, b)).copied(),
        }
    }

    fn insert(&mut self, key: FlowKey, at: u32) {
        match key {
            FlowKey::V4(k) => self.v4.insert(k, at),
            FlowKey::Other(a, b) => self.other.insert((a, b), at),
        };
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct MediaIndex {
    /// Streams from or to each address.
    rtp_by_addr: Chains,
    /// Announcements of each address.
    announced_by_addr: Chains,
}

/// Positions filed under addresses, as chains through one array: two allocations for any
/// number of positions, one hash insert per entry.
#[derive(Debug, Clone, Default)]
struct Chains {
    /// The first entry of each address.
    head: HashMap<SocketAddr, u32>,
    /// (position, next entry under the same address or `u32::MAX`).
    entries: Vec<(u32, u32)>,
}

impl Chains {
    /// Files `entries` (address, position), given in increasing position, so that each
    /// address's positions come out in that order.
    fn build(entries: Vec<(SocketAddr, u32)>) -> Self {
        let mut c = Chains {
            head: HashMap::default(),
            entries: Vec::with_capacity(entries.len()),
        };
        c.head.reserve(entries.len());
        // Backwards: each entry is chained in front of the later ones of its address.
        for (addr, pos) in entries.into_iter().rev() {
            let at = c.entries.len() as u32;
            let next = c.head.insert(addr, at).unwrap_or(u32::MAX);
            c.entries.push((pos, next));
        }
        c
    }

    fn positions(&self, addr: SocketAddr) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.head.get(&addr).copied().unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            let &(pos, next) = self.entries.get(at as usize)?;
            at = next;
            Some(pos as usize)
        })
    }
}

impl MediaReport {
    /// The settings in force (defaults when the report was built without any).
    pub fn settings(&self) -> MediaSettings {
        self.settings.clone().unwrap_or_default()
    }

    fn index(&self) -> &MediaIndex {
        self.index.get_or_init(|| {
            let mut rtp = Vec::with_capacity(self.rtp.len() * 2);
            for (i, s) in self.rtp.iter().enumerate() {
                rtp.push((s.dst, i as u32));
                if s.src != s.dst {
                    rtp.push((s.src, i as u32));
                }
            }
            let announced = self
                .announced
                .iter()
                .enumerate()
                .map(|(i, a)| (a.addr, i as u32))
                .collect();
            MediaIndex {
                rtp_by_addr: Chains::build(rtp),
                announced_by_addr: Chains::build(announced),
            }
        })
    }

    /// RTP streams from or to `addr`.
    pub fn rtp_at(&self, addr: SocketAddr) -> impl Iterator<Item = &RtpStream> {
        self.index()
            .rtp_by_addr
            .positions(addr)
            .map(|i| &self.rtp[i])
    }

    /// SDP announcements of `addr`.
    pub fn announced_at(&self, addr: SocketAddr) -> impl Iterator<Item = &Announced> {
        self.index()
            .announced_by_addr
            .positions(addr)
            .map(|i| &self.announced[i])
    }
}

/// The six softphone/media rules (SP001-SP006) over a report and the SIP calls, without
/// the rest of a rule [`Context`](crate::rules::Context).
pub fn check_media(report: &MediaReport, calls: &[Call]) -> Vec<Finding> {
    let roles = crate::calls::legs::Roles::default();
    let legs = crate::calls::legs::Legs::default();
    let site = crate::numbers::Site::default();
    let cx = crate::rules::Context {
        captures: &[],
        calls,
        roles: &roles,
        legs: &legs,
        site: &site,
        media: report,
        ipo: &crate::rules::ipo::NO_IPO,
    };
    crate::rules::run_rules(&cx, &|r| r.id.starts_with("SP"))
}

#[derive(Debug)]
struct FlowState {
    src: SocketAddr,
    dst: SocketAddr,
    /// `announce_gen` when `dst_ann`/`src_ann` were looked up.
    ann_gen: u32,
    dst_ann: Option<u32>,
    src_ann: Option<u32>,
    /// STUN was seen between these two addresses.
    stun: bool,
    /// Indexes into `MediaTracker::streams`.
    streams: Vec<u32>,
    /// The stream of the flow's last RTP packet (`u32::MAX`: none yet).
    last_stream: u32,
    /// Datagrams counted for `dst_ann` (received) and `src_ann` (sent) and not yet added
    /// to them: kept here, where every packet looks anyway, and added when the
    /// announcement changes or the scan ends.
    rx: u64,
    tx: u64,
}

impl FlowState {
    /// Adds the pending counts to the announcements they were counted for.
    fn settle(&mut self, announced: &mut [Announced]) {
        if let Some(a) = self.dst_ann {
            announced[a as usize].received += std::mem::take(&mut self.rx);
        }
        if let Some(a) = self.src_ann {
            announced[a as usize].sent += std::mem::take(&mut self.tx);
        }
    }
}

#[derive(Debug)]
struct StreamState {
    src: SocketAddr,
    dst: SocketAddr,
    ssrc: u32,
    /// Payload types seen, in order (at most 8), kept inline: no allocation per stream.
    payload_types: [u8; 8],
    payload_type_count: u8,
    packets: u64,
    first_frame: u64,
    last_frame: u64,
    first_time: Timestamp,
    last_time: Timestamp,
    seq: rtp::SeqStats,
    late: u64,
    gap_frames: Vec<u64>,
    jitter: rtp::Jitter,
    /// The payload type jitter is measured on, and its clock rate.
    jitter_pt: Option<(u8, u32)>,
    last_seq: u16,
    /// Consecutive sequence numbers seen before confirmation.
    run: u32,
    confirmed: bool,
    recognised_by: &'static str,
    dst_ann: Option<u32>,
    src_ann: Option<u32>,
}

impl StreamState {
    fn new(src: SocketAddr, dst: SocketAddr, ssrc: u32, frame: u64, time: Timestamp) -> Self {
        StreamState {
            src,
            dst,
            ssrc,
            payload_types: [0; 8],
            payload_type_count: 0,
            packets: 0,
            first_frame: frame,
            last_frame: frame,
            first_time: time,
            last_time: time,
            seq: rtp::SeqStats::default(),
            late: 0,
            gap_frames: Vec::new(),
            jitter: rtp::Jitter::default(),
            jitter_pt: None,
            last_seq: 0,
            run: 0,
            confirmed: false,
            recognised_by: "sequence",
            dst_ann: None,
            src_ann: None,
        }
    }
}

#[derive(Debug)]
enum TcpState {
    /// Too few bytes yet to tell (the first segment was shorter than a STUN header).
    Undecided(Vec<u8>),
    /// Not STUN.
    Rejected,
    /// STUN over TCP, plain or with the RFC 4571 length prefix; bytes not yet parsed.
    Stun { framed: bool, buf: Vec<u8> },
}

/// Collects media while the capture streams by.
#[derive(Debug, Default)]
pub struct MediaTracker {
    settings: MediaSettings,
    report: MediaReport,
    flow_index: FlowIndex,
    flows: Vec<FlowState>,
    streams: Vec<StreamState>,
    transactions: HashMap<[u8; 16], u32>,
    announced_index: HashMap<SocketAddr, u32>,
    announce_gen: u32,
    signal_index: HashMap<(SocketAddr, SocketAddr), u32>,
    tcp: HashMap<Flow, TcpState>,
}

impl MediaTracker {
    pub fn new(settings: MediaSettings) -> Self {
        MediaTracker {
            settings,
            ..Default::default()
        }
    }

    /// SDP seen in a SIP message of `call_id` (frame `frame`): its media addresses (the
    /// `c=`/`m=` address and UDP ICE candidates of component 1) become announced.
    pub fn announce(&mut self, call_id: &str, sdp: &Sdp, frame: u64) {
        for m in &sdp.media {
            if m.port == 0 {
                continue;
            }
            let mut addrs: Vec<(SocketAddr, Option<String>)> = Vec::new();
            if let Some(ip) = m.connection
                && !ip.is_unspecified()
            {
                addrs.push((SocketAddr::new(ip, m.port), None));
            }
            for c in &m.candidates {
                if c.component == 1
                    && c.transport.eq_ignore_ascii_case("udp")
                    && let Ok(ip) = c.addr.parse::<std::net::IpAddr>()
                {
                    let a = SocketAddr::new(ip, c.port);
                    if !addrs.iter().any(|(x, _)| *x == a) {
                        addrs.push((a, Some(c.typ.clone())));
                    }
                }
            }
            for (addr, candidate) in addrs {
                if let Some(&i) = self.announced_index.get(&addr)
                    && self.report.announced[i as usize].call_id == call_id
                {
                    continue;
                }
                if self.report.announced.len() >= MAX_ANNOUNCED {
                    self.report.dropped += 1;
                    continue;
                }
                let i = self.report.announced.len() as u32;
                self.report.announced.push(Announced {
                    call_id: call_id.to_string(),
                    addr,
                    frame,
                    codecs: m.codecs(),
                    kind: m.kind.clone(),
                    direction: m.direction,
                    candidate,
                    payloads: m.payloads.clone(),
                    received: 0,
                    sent: 0,
                    rtp_received: 0,
                    rtp_sent: 0,
                });
                self.announced_index.insert(addr, i);
                self.announce_gen = self.announce_gen.wrapping_add(1);
            }
        }
    }

    /// A non-SIP datagram.
    pub fn datagram(&mut self, d: &Datagram<'_>) {
        if d.transport != Transport::Udp {
            return;
        }
        match UdpPayload::read(d.payload) {
            Some(p) => self.read_datagram(d, p),
            None => {
                self.report.udp_datagrams += 1;
                let fi = self.counted_flow(d.src, d.dst);
                self.stun_datagram(d, fi);
            }
        }
    }

    /// A UDP datagram that is not STUN, its payload read by [`UdpPayload::read`]:
    /// `d.payload` is not looked at (the pipeline delivers it empty).
    pub fn read_datagram(&mut self, d: &Datagram<'_>, p: UdpPayload) {
        if d.transport != Transport::Udp {
            return;
        }
        self.report.udp_datagrams += 1;
        if p == UdpPayload::Empty {
            return;
        }
        let fi = self.counted_flow(d.src, d.dst);
        self.rtp_or_other(d.src, d.dst, d.frame, d.time, p, fi);
    }

    /// The flow of a datagram, brought up to date with the announcements and counted for
    /// them.
    fn counted_flow(&mut self, src: SocketAddr, dst: SocketAddr) -> Option<usize> {
        let fi = self.flow(src, dst)?;
        self.refresh(fi);
        let f = &mut self.flows[fi];
        f.rx += u64::from(f.dst_ann.is_some());
        f.tx += u64::from(f.src_ann.is_some());
        Some(fi)
    }

    pub fn icmp(&mut self, e: &IcmpError) {
        if e.transport != Transport::Udp {
            return;
        }
        if self.report.icmp.len() < MAX_ICMP {
            self.report.icmp.push(e.clone());
        } else {
            self.report.dropped += 1;
        }
    }

    pub fn stream(&mut self, e: &StreamEvent<'_>) {
        match e {
            StreamEvent::Data {
                flow,
                frame,
                time,
                data,
                ..
            } => {
                let sp = self.settings.softphone_port;
                if flow.dst.port() == sp || flow.src.port() == sp {
                    self.signalling(flow, *frame, *time, data.len());
                } else {
                    self.tcp_data(flow, *frame, *time, data);
                }
            }
            StreamEvent::Gap { flow, .. } => {
                // Framing is lost after a hole: stop reading STUN from this direction.
                if let Some(s) = self.tcp.get_mut(flow) {
                    *s = TcpState::Rejected;
                }
            }
            StreamEvent::End { flow, .. } => {
                self.tcp.remove(flow);
            }
        }
    }

    pub fn finish(mut self) -> MediaReport {
        for f in &mut self.flows {
            f.settle(&mut self.report.announced);
        }
        let mut streams: Vec<RtpStream> = Vec::with_capacity(self.streams.len());
        for s in std::mem::take(&mut self.streams)
            .into_iter()
            .filter(|s| s.confirmed)
        {
            let ann = s.dst_ann.or(s.src_ann);
            let a = ann.map(|i| &self.report.announced[i as usize]);
            let pts = &s.payload_types[..usize::from(s.payload_type_count)];
            let pt = pts.first().copied().unwrap_or(0);
            let codec = a
                .and_then(|a| a.payloads.iter().find(|p| p.pt == pt))
                .and_then(|p| p.name.clone())
                .or_else(|| {
                    crate::sip::sdp::static_payload_name(pt).map(std::borrow::Cow::Borrowed)
                });
            let per_ms = |units: f64| match s.jitter_pt {
                Some((_, rate)) => units * 1000.0 / f64::from(rate),
                None => 0.0,
            };
            streams.push(RtpStream {
                src: s.src,
                dst: s.dst,
                ssrc: s.ssrc,
                payload_type: pt,
                codec,
                packets: s.packets,
                first_frame: s.first_frame,
                last_frame: s.last_frame,
                first_time: s.first_time,
                last_time: s.last_time,
                lost: s.seq.lost(),
                duplicates: s.seq.duplicates,
                jitter_ms: per_ms(s.jitter.jitter),
                max_jitter_ms: per_ms(s.jitter.max),
                mean_jitter_ms: per_ms(s.jitter.mean()),
                call_id: a.map(|a| a.call_id.clone()),
                expected: s.seq.expected(),
                payload_types: pts.to_vec(),
                recognised_by: s.recognised_by,
                late: s.late,
                gap_frames: s.gap_frames,
            });
            if let Some(i) = s.dst_ann {
                self.report.announced[i as usize].rtp_received += s.packets;
            }
            if let Some(i) = s.src_ann {
                self.report.announced[i as usize].rtp_sent += s.packets;
            }
        }
        streams.sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
        self.report.rtp = streams;
        self.report.settings = Some(self.settings);
        // Built now, while the calls are being finished beside this (see `app`), rather
        // than by whichever rule asks first while the others wait.
        self.report.index();
        self.report
    }

    /// The flow of `src → dst`, created when there is room.
    fn flow(&mut self, src: SocketAddr, dst: SocketAddr) -> Option<usize> {
        let key = FlowKey::new(src, dst);
        if let Some(i) = self.flow_index.get(key) {
            return Some(i as usize);
        }
        if self.flows.len() >= MAX_FLOWS {
            self.report.dropped += 1;
            return None;
        }
        let i = self.flows.len();
        self.flows.push(FlowState {
            src,
            dst,
            ann_gen: self.announce_gen.wrapping_sub(1),
            dst_ann: None,
            src_ann: None,
            stun: false,
            streams: Vec::new(),
            last_stream: u32::MAX,
            rx: 0,
            tx: 0,
        });
        self.flow_index.insert(key, i as u32);
        Some(i)
    }

    /// Looks the flow's addresses up among the announced ones after new SDP arrived.
    fn refresh(&mut self, fi: usize) {
        let f = &mut self.flows[fi];
        if f.ann_gen != self.announce_gen {
            f.ann_gen = self.announce_gen;
            let dst = self.announced_index.get(&f.dst).copied();
            let src = self.announced_index.get(&f.src).copied();
            if (dst, src) != (f.dst_ann, f.src_ann) {
                f.settle(&mut self.report.announced);
                f.dst_ann = dst;
                f.src_ann = src;
            }
        }
    }

    fn is_media_flow(&self, fi: Option<usize>, d: &Datagram<'_>) -> bool {
        fi.is_some_and(|i| {
            let f = &self.flows[i];
            f.stun || f.dst_ann.is_some() || f.src_ann.is_some()
        }) || self.settings.is_media_port(d.src.port())
            || self.settings.is_media_port(d.dst.port())
            || [d.src.port(), d.dst.port()].contains(&STUN_PORT)
    }

    fn stun_datagram(&mut self, d: &Datagram<'_>, fi: Option<usize>) {
        let msg = match stun::parse(d.payload) {
            Some(m) => m,
            None if self.is_media_flow(fi, d) => match stun::parse_classic(d.payload) {
                Some(m) => m,
                None => return,
            },
            None => return,
        };
        self.stun_message(
            &msg,
            d.payload,
            d.src,
            d.dst,
            d.frame,
            d.time,
            Transport::Udp,
        );
        // Both directions of the pair now count as a media path.
        if let Some(fi) = fi {
            self.flows[fi].stun = true;
        }
        if let Some(ri) = self.flow(d.dst, d.src) {
            self.flows[ri].stun = true;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn stun_message(
        &mut self,
        m: &stun::Message,
        bytes: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: Timestamp,
        transport: Transport,
    ) {
        if m.classic {
            self.report.classic_stun_messages += 1;
        } else {
            self.report.stun_messages += 1;
        }
        match m.class {
            stun::Class::Request => {
                if let Some(&i) = self.transactions.get(&m.key) {
                    let t = &mut self.report.stun[i as usize];
                    if t.retransmission_frames.len() < MAX_FRAMES_LISTED {
                        t.retransmission_frames.push(frame);
                    }
                    return;
                }
                if self.report.stun.len() >= MAX_TRANSACTIONS {
                    self.report.dropped += 1;
                    return;
                }
                let a = &m.attrs;
                let role = if a.ice_controlling {
                    Some("controlling".to_string())
                } else if a.ice_controlled {
                    Some("controlled".to_string())
                } else {
                    None
                };
                self.transactions
                    .insert(m.key, self.report.stun.len() as u32);
                self.report.stun.push(StunTransaction {
                    transaction_id: m.transaction_hex(),
                    method: m.type_hex(),
                    src,
                    dst,
                    request_frame: frame,
                    time,
                    retransmission_frames: Vec::new(),
                    response_frame: None,
                    response_class: None,
                    response_from: None,
                    error_code: None,
                    username: a.username.clone(),
                    use_candidate: a.use_candidate,
                    ice_role: role,
                    description: m.describe(),
                    transport,
                    classic: m.classic,
                    priority: a.priority,
                    response_frames: Vec::new(),
                    mapped_address: None,
                    response_time: None,
                });
            }
            stun::Class::Success | stun::Class::Error => {
                let Some(&i) = self.transactions.get(&m.key) else {
                    self.report.stun_unmatched_responses += 1;
                    return;
                };
                let t = &mut self.report.stun[i as usize];
                if t.response_frames.len() < MAX_FRAMES_LISTED {
                    t.response_frames.push(frame);
                }
                if t.response_frame.is_none() {
                    t.response_frame = Some(frame);
                    t.response_time = Some(time);
                    t.response_class = Some(m.class.name().to_string());
                    t.response_from = Some(src);
                    t.error_code = m.attrs.error_code;
                    t.mapped_address = m.attrs.xor_mapped_address.or(m.attrs.mapped_address);
                }
            }
            stun::Class::Indication => {
                self.report.stun_indications += 1;
                // TURN Send/Data indications (RFC 8656 §11) relay media in DATA; like
                // Wireshark, account relayed RTP to the client-server addresses.
                if matches!(m.method, 0x006 | 0x007)
                    && let Some(inner) = m.attrs.data.clone().and_then(|r| bytes.get(r))
                    && matches!(inner.first(), Some(128..=191))
                    && let Some(fi) = self.flow(src, dst)
                {
                    self.flows[fi].stun = true;
                    self.refresh(fi);
                    if let Some(p) = UdpPayload::read(inner) {
                        self.rtp_or_other(src, dst, frame, time, p, Some(fi));
                    }
                }
            }
        }
    }

    /// Counts what is not RTP; RTP goes on to its stream.
    fn rtp_or_other(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: Timestamp,
        p: UdpPayload,
        fi: Option<usize>,
    ) {
        match p {
            UdpPayload::Dtls => self.report.dtls_packets += 1,
            UdpPayload::Rtcp { valid } => self.report.rtcp_packets += u64::from(valid),
            UdpPayload::Rtp(Some(h)) => {
                if let Some(fi) = fi {
                    self.rtp_packet(src, dst, frame, time, h, fi);
                }
            }
            UdpPayload::Rtp(None) | UdpPayload::Empty | UdpPayload::Other => {}
        }
    }

    fn rtp_packet(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: Timestamp,
        h: rtp::Header,
        fi: usize,
    ) {
        let f = &self.flows[fi];
        let recognised_by = if f.dst_ann.is_some() || f.src_ann.is_some() {
            Some("sdp")
        } else if f.stun {
            Some("stun")
        } else {
            None
        };
        if recognised_by.is_none() && (72..=76).contains(&h.payload_type) {
            // RTCP packet types 200-204 without the marker bit: not RTP.
            return;
        }
        let (dst_ann, src_ann) = (f.dst_ann, f.src_ann);
        // SSRCs are unique within a flow: the last packet's stream is the one, usually.
        let found = match self.streams.get(f.last_stream as usize) {
            Some(s) if s.ssrc == h.ssrc => Some(f.last_stream),
            _ => f
                .streams
                .iter()
                .copied()
                .find(|&s| self.streams[s as usize].ssrc == h.ssrc),
        };
        let si = match found {
            Some(s) => s as usize,
            None => {
                let new = StreamState::new(src, dst, h.ssrc, frame, time);
                if f.streams.len() < MAX_STREAMS_PER_FLOW && self.streams.len() < MAX_STREAMS {
                    let si = self.streams.len();
                    self.streams.push(new);
                    self.flows[fi].streams.push(si as u32);
                    si
                } else if let Some(s) = f
                    .streams
                    .iter()
                    .copied()
                    .find(|&s| !self.streams[s as usize].confirmed)
                {
                    self.streams[s as usize] = new;
                    s as usize
                } else {
                    self.report.dropped += 1;
                    return;
                }
            }
        };
        self.flows[fi].last_stream = si as u32;
        let s = &mut self.streams[si];
        if !s.confirmed && s.packets > 0 {
            if h.seq == s.last_seq.wrapping_add(1) {
                s.run += 1;
            } else {
                *s = StreamState::new(src, dst, h.ssrc, frame, time);
            }
        }
        if s.packets == 0 {
            s.run = 1;
        }
        if !s.confirmed {
            if let Some(by) = recognised_by {
                s.confirmed = true;
                s.recognised_by = by;
            } else if s.run >= CONFIRM_PACKETS {
                s.confirmed = true;
            }
        }
        s.dst_ann = dst_ann;
        s.src_ann = src_ann;
        s.last_seq = h.seq;
        s.packets += 1;
        s.last_frame = frame;
        s.last_time = time;
        let n = usize::from(s.payload_type_count);
        if n < s.payload_types.len() && !s.payload_types[..n].contains(&h.payload_type) {
            s.payload_types[n] = h.payload_type;
            s.payload_type_count += 1;
        }
        let outcome = s.seq.update(h.seq);
        match outcome {
            rtp::SeqOutcome::Late => s.late += 1,
            rtp::SeqOutcome::InOrder { gap } if gap > 0 && s.gap_frames.len() < MAX_GAP_FRAMES => {
                s.gap_frames.push(frame)
            }
            rtp::SeqOutcome::Restart => s.jitter.reset(),
            _ => {}
        }
        if s.jitter_pt.is_none() {
            // Looked up once per stream, not per packet.
            let names = dst_ann
                .or(src_ann)
                .map(|i| &self.report.announced[i as usize].payloads[..]);
            let name = names
                .and_then(|n| n.iter().find(|p| p.pt == h.payload_type))
                .and_then(|p| p.name.as_deref());
            let event = name.is_some_and(|n| {
                n.eq_ignore_ascii_case("telephone-event") || n.eq_ignore_ascii_case("CN")
            });
            if !event && h.payload_type != 13 && h.payload_type != 19 {
                s.jitter_pt = Some((h.payload_type, rtp::clock_rate(h.payload_type, name)));
            }
        }
        if let Some((pt, rate)) = s.jitter_pt
            && pt == h.payload_type
            && matches!(
                outcome,
                rtp::SeqOutcome::First | rtp::SeqOutcome::InOrder { .. } | rtp::SeqOutcome::Restart
            )
        {
            s.jitter.update(time, h.timestamp, rate);
        }
    }

    fn signalling(&mut self, flow: &Flow, frame: u64, time: Timestamp, len: usize) {
        let sp = self.settings.softphone_port;
        let (client, server, from_client) = if flow.dst.port() == sp {
            (flow.src, flow.dst, true)
        } else {
            (flow.dst, flow.src, false)
        };
        let i = match self.signal_index.get(&(client, server)) {
            Some(&i) => i as usize,
            None => {
                if self.signal_index.len() >= MAX_SIGNAL_FLOWS {
                    self.report.dropped += 1;
                    return;
                }
                let i = self.report.softphone.len();
                self.report.softphone.push(SignalFlow {
                    client,
                    server,
                    first_frame: frame,
                    last_frame: frame,
                    segments: 0,
                    client_bytes: 0,
                    server_bytes: 0,
                    first_time: time,
                    last_time: time,
                    frames: Vec::new(),
                });
                self.signal_index.insert((client, server), i as u32);
                i
            }
        };
        let s = &mut self.report.softphone[i];
        s.segments += 1;
        s.first_frame = s.first_frame.min(frame);
        s.last_frame = s.last_frame.max(frame);
        s.last_time = s.last_time.max(time);
        if from_client {
            s.client_bytes += len as u64;
        } else {
            s.server_bytes += len as u64;
        }
        if s.frames.len() < MAX_FRAMES_LISTED && !s.frames.contains(&frame) {
            s.frames.push(frame);
        }
    }

    fn tcp_data(&mut self, flow: &Flow, frame: u64, time: Timestamp, data: &[u8]) {
        /// Bytes that decide whether a stream starts with (framed) STUN.
        const DECIDE: usize = stun::HEADER_LEN + 2;
        if !self.tcp.contains_key(flow) {
            if self.tcp.len() >= MAX_TCP_FLOWS {
                return;
            }
            self.tcp.insert(*flow, TcpState::Undecided(Vec::new()));
        }
        let state = self.tcp.get_mut(flow).expect("inserted above");
        let mut pending = match state {
            TcpState::Rejected => return,
            TcpState::Undecided(head) => {
                let mut head = std::mem::take(head);
                head.extend_from_slice(data);
                if head.len() < DECIDE && head.first().is_none_or(|&b| b < 0x40) {
                    *state = TcpState::Undecided(head);
                    return;
                }
                match stun::stream_start(&head) {
                    Some(framed) => {
                        *state = TcpState::Stun {
                            framed,
                            buf: Vec::new(),
                        };
                        head
                    }
                    None => {
                        *state = TcpState::Rejected;
                        return;
                    }
                }
            }
            TcpState::Stun { buf, .. } => {
                let mut b = std::mem::take(buf);
                b.extend_from_slice(data);
                b
            }
        };
        let framed = matches!(state, TcpState::Stun { framed: true, .. });
        let mut msgs = Vec::new();
        let mut off = 0;
        let mut valid = true;
        loop {
            match stun::next_in_stream(&pending[off..], framed) {
                stun::StreamItem::Stun { skip, len } => {
                    let start = off + skip;
                    if let Some(m) = stun::parse(&pending[start..start + len]) {
                        msgs.push((m, start..start + len));
                    }
                    off = start + len;
                }
                stun::StreamItem::Other(n) => off += n,
                stun::StreamItem::Incomplete => break,
                stun::StreamItem::Invalid => {
                    valid = false;
                    break;
                }
            }
        }
        for (m, range) in &msgs {
            let bytes = &pending[range.clone()];
            self.stun_message(m, bytes, flow.src, flow.dst, frame, time, Transport::Tcp);
        }
        let rest = pending.len() - off;
        let state = self.tcp.get_mut(flow).expect("inserted above");
        if !valid || rest > MAX_TCP_BUFFER {
            *state = TcpState::Rejected;
        } else if let TcpState::Stun { buf, .. } = state {
            pending.drain(..off);
            *buf = pending;
        }
    }
}

/// Builders of synthetic media for unit tests (here and in the SP rules).
#[cfg(test)]
#[allow(dead_code)]
pub(crate) mod testing {
    use super::*;

    pub fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A UDP datagram at `ms` milliseconds into the capture.
    pub fn dgram<'a>(frame: u64, ms: u32, src: &str, dst: &str, payload: &'a [u8]) -> Datagram<'a> {
        Datagram {
            frame,
            frames: &[],
            time: Timestamp::new(1000 + i64::from(ms / 1000), (ms % 1000) * 1_000_000),
            src: addr(src),
            dst: addr(dst),
            transport: Transport::Udp,
            payload,
            cut: false,
        }
    }

    pub fn rtp_pkt(seq: u16, ts: u32, ssrc: u32, pt: u8) -> Vec<u8> {
        let mut b = vec![0x80, pt];
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&ts.to_be_bytes());
        b.extend_from_slice(&ssrc.to_be_bytes());
        b.extend_from_slice(&[0xff; 160]);
        b
    }

    pub fn stun_msg(t: u16, tid: u8, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (at, v) in attrs {
            body.extend_from_slice(&at.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let mut m = t.to_be_bytes().to_vec();
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&stun::MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&[tid; 12]);
        m.extend_from_slice(&body);
        m
    }

    /// An ICE check (Binding request with USERNAME `user`).
    /// An ICE check `from` → `to` at `frame` and its success response at `frame + 1`.
    pub fn answered_check(
        t: &mut MediaTracker,
        frame: u64,
        ms: u32,
        from: &str,
        to: &str,
        tid: u8,
    ) {
        t.datagram(&dgram(frame, ms, from, to, &check(tid, "S:C")));
        t.datagram(&dgram(frame + 1, ms + 1, to, from, &success(tid)));
    }

    pub fn check(tid: u8, user: &str) -> Vec<u8> {
        stun_msg(0x0001, tid, &[(stun::attr::USERNAME, user.as_bytes())])
    }

    /// A Binding success response.
    pub fn success(tid: u8) -> Vec<u8> {
        stun_msg(0x0101, tid, &[])
    }

    /// Softphone signalling data `client → server` (server port 2230) and back.
    pub fn signalling(t: &mut MediaTracker, client: &str, server: &str, frame: u64) {
        let (c, s) = (addr(client), addr(server));
        let time = Timestamp::new(999, 0);
        for (i, flow) in [Flow { src: c, dst: s }, Flow { src: s, dst: c }]
            .into_iter()
            .enumerate()
        {
            t.stream(&StreamEvent::Data {
                flow,
                frame: frame + i as u64,
                origin: frame + i as u64,
                time,
                data: b"{}",
            });
        }
    }

    /// `n` packets of 20 ms PCMU from `src` to `dst`, starting at frame `frame`.
    pub fn rtp_stream(t: &mut MediaTracker, src: &str, dst: &str, ssrc: u32, frame: u64, n: u16) {
        for i in 0..n {
            let p = rtp_pkt(1000 + i, 160 * u32::from(i), ssrc, 0);
            t.datagram(&dgram(
                frame + u64::from(i),
                2000 + 20 * u32::from(i),
                src,
                dst,
                &p,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn udp_payloads_are_read_by_first_byte_and_count_as_the_whole_datagram_would() {
        let rtp = rtp_pkt(7, 160, 0xabc, 8);
        let rr = [0x80, 201, 0, 1, 1, 2, 3, 4];
        let bad_rr = [0x80, 201, 0, 5, 1, 2, 3, 4];
        let dtls = [22u8, 0xfe, 0xfd, 0, 0];
        let stun = stun_msg(0x0001, 9, &[]);
        assert_eq!(UdpPayload::read(&[]), Some(UdpPayload::Empty));
        assert_eq!(UdpPayload::read(&stun), None, "STUN is read whole");
        assert_eq!(UdpPayload::read(&dtls), Some(UdpPayload::Dtls));
        assert_eq!(UdpPayload::read(b"hello"), Some(UdpPayload::Other));
        assert_eq!(
            UdpPayload::read(&rr),
            Some(UdpPayload::Rtcp { valid: true })
        );
        assert_eq!(
            UdpPayload::read(&bad_rr),
            Some(UdpPayload::Rtcp { valid: false })
        );
        assert_eq!(
            UdpPayload::read(&rtp),
            Some(UdpPayload::Rtp(rtp::parse(&rtp)))
        );
        assert!(matches!(
            UdpPayload::read(&rtp),
            Some(UdpPayload::Rtp(Some(h))) if h.seq == 7 && h.ssrc == 0xabc
        ));
        assert_eq!(UdpPayload::read(&rtp[..6]), Some(UdpPayload::Rtp(None)));

        // The same traffic whole, and read with its payload left behind: the same report
        // (compared as JSON: its lookup index is a randomly seeded map).
        let mut packets: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..6u16 {
            let r = rtp_pkt(100 + i, u32::from(i) * 160, 0x1234, 0);
            packets.push(("10.0.0.1:40000".into(), r));
        }
        for p in [&rr[..], &bad_rr, &dtls, b"hello", &[], &stun] {
            packets.push(("10.0.0.2:3478".into(), p.to_vec()));
        }
        let whole = {
            let mut t = MediaTracker::default();
            for (i, (src, p)) in packets.iter().enumerate() {
                t.datagram(&dgram(
                    i as u64 + 1,
                    i as u32 * 20,
                    src,
                    "10.0.0.9:30000",
                    p,
                ));
            }
            serde_json::to_string(&t.finish()).expect("report serialises")
        };
        let read = {
            let mut t = MediaTracker::default();
            for (i, (src, p)) in packets.iter().enumerate() {
                let d = dgram(i as u64 + 1, i as u32 * 20, src, "10.0.0.9:30000", p);
                match UdpPayload::read(p) {
                    Some(r) => t.read_datagram(&Datagram { payload: &[], ..d }, r),
                    None => t.datagram(&d),
                }
            }
            serde_json::to_string(&t.finish()).expect("report serialises")
        };
        assert_eq!(whole, read);
        assert!(whole.contains(r#""rtcp_packets":1,"#), "{whole}");
        assert!(whole.contains(r#""dtls_packets":1,"#), "{whole}");
        assert!(whole.contains(r#""udp_datagrams":12,"#), "{whole}");
    }

    #[test]
    fn unannounced_rtp_needs_three_consecutive_packets() {
        let mut t = MediaTracker::default();
        // Two stray packets, then a real stream starting over.
        t.datagram(&dgram(
            1,
            0,
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &rtp_pkt(7, 0, 1, 0),
        ));
        t.datagram(&dgram(
            2,
            20,
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &rtp_pkt(900, 0, 1, 0),
        ));
        // A lone packet of another flow never becomes a stream.
        t.datagram(&dgram(
            3,
            20,
            "10.0.0.9:4000",
            "10.0.0.2:5002",
            &rtp_pkt(1, 0, 9, 0),
        ));
        for i in 0..10u16 {
            let p = rtp_pkt(901 + i, 160 * (u32::from(i) + 1), 1, 0);
            t.datagram(&dgram(
                4 + u64::from(i),
                40 + 20 * u32::from(i),
                "10.0.0.1:4000",
                "10.0.0.2:5000",
                &p,
            ));
        }
        let r = t.finish();
        assert_eq!(r.rtp.len(), 1);
        let s = &r.rtp[0];
        assert_eq!(
            s.packets, 11,
            "the earlier packet of the run counts once confirmed"
        );
        assert_eq!((s.first_frame, s.last_frame), (2, 13));
        assert_eq!(s.lost, 0);
        assert_eq!(s.recognised_by, "sequence");
        assert_eq!(s.codec.as_deref(), Some("PCMU"));
        assert!(s.max_jitter_ms < 0.01);
    }

    #[test]
    fn datagrams_count_for_the_announcement_in_force_when_they_pass() {
        let mut t = MediaTracker::default();
        let sdp = |port: u16| {
            crate::sip::sdp::parse(
                format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n").as_bytes(),
            )
        };
        let send = |t: &mut MediaTracker, frame: u64, n: u16| {
            for i in 0..n {
                t.datagram(&dgram(
                    frame + u64::from(i),
                    0,
                    "10.0.0.1:4000",
                    "10.0.0.2:5000",
                    &rtp_pkt(i, 0, 9, 8),
                ));
            }
        };
        send(&mut t, 1, 1); // before any SDP: counted for nobody
        t.announce("call-a", &sdp(5000), 2);
        send(&mut t, 3, 2);
        t.announce("call-b", &sdp(5000), 10); // the address moves to another call
        send(&mut t, 11, 3);
        t.announce("call-c", &sdp(6000), 20); // another address: call-b keeps 5000
        send(&mut t, 21, 4);
        let r = t.finish();
        let received: Vec<(&str, u64)> = r
            .announced
            .iter()
            .map(|a| (a.call_id.as_str(), a.received))
            .collect();
        assert_eq!(received, [("call-a", 2), ("call-b", 7), ("call-c", 0)]);
        // One datagram was sent before the first announcement.
        assert_eq!(r.udp_datagrams, 10);
    }

    #[test]
    fn rtp_and_announcements_are_found_by_address_in_order() {
        let mut t = MediaTracker::default();
        for (i, call) in ["c1", "c2", "c3"].iter().enumerate() {
            let port = if i == 1 { 7000 } else { 5000 };
            let body = format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n");
            t.announce(call, &crate::sip::sdp::parse(body.as_bytes()), i as u64);
        }
        rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 1, 10, 5);
        rtp_stream(&mut t, "10.0.0.2:5000", "10.0.0.1:4000", 2, 20, 5);
        rtp_stream(&mut t, "10.0.0.3:4000", "10.0.0.2:7000", 3, 30, 5);
        let r = t.finish();
        let at = |a: &str| -> Vec<&str> {
            r.announced_at(addr(a))
                .map(|x| x.call_id.as_str())
                .collect()
        };
        assert_eq!(at("10.0.0.2:5000"), ["c1", "c3"]);
        assert_eq!(at("10.0.0.2:7000"), ["c2"]);
        assert!(at("10.0.0.9:1").is_empty());
        let ssrcs = |a: &str| -> Vec<u32> { r.rtp_at(addr(a)).map(|s| s.ssrc).collect() };
        assert_eq!(ssrcs("10.0.0.2:5000"), [1, 2]);
        assert_eq!(ssrcs("10.0.0.1:4000"), [1, 2]);
        assert_eq!(ssrcs("10.0.0.2:7000"), [3]);
        assert!(ssrcs("10.0.0.9:1").is_empty());
    }

    #[test]
    fn announced_flow_counts_from_the_first_packet_and_names_the_codec() {
        let mut t = MediaTracker::default();
        let sdp = crate::sip::sdp::parse(
            b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n",
        );
        t.announce("call-1", &sdp, 1);
        t.announce("call-1", &sdp, 3); // retransmitted SDP: no second entry
        t.datagram(&dgram(
            5,
            0,
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &rtp_pkt(1, 0, 5, 111),
        ));
        t.datagram(&dgram(
            6,
            20,
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &rtp_pkt(3, 1920, 5, 111),
        ));
        t.datagram(&dgram(
            7,
            40,
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &rtp_pkt(3, 1920, 5, 111),
        ));
        let r = t.finish();
        assert_eq!(r.announced.len(), 1);
        assert_eq!(r.announced[0].received, 3);
        assert_eq!(r.announced[0].rtp_received, 3);
        let s = &r.rtp[0];
        assert_eq!(s.call_id.as_deref(), Some("call-1"));
        assert_eq!(s.codec.as_deref(), Some("opus"));
        assert_eq!((s.packets, s.expected, s.lost, s.duplicates), (3, 3, 0, 1));
        assert_eq!(s.recognised_by, "sdp");
    }

    #[test]
    fn stun_transactions_pair_and_count_retransmissions() {
        let mut t = MediaTracker::default();
        let req = stun_msg(
            0x0001,
            1,
            &[
                (stun::attr::USERNAME, b"Sv4k:Xc9f"),
                (stun::attr::ICE_CONTROLLING, &[0; 8]),
            ],
        );
        let resp = stun_msg(0x0101, 1, &[]);
        let other = stun_msg(0x0101, 2, &[]);
        let ind = stun_msg(0x0011, 3, &[]);
        t.datagram(&dgram(1, 0, "10.0.0.1:49200", "10.0.0.2:30010", &req));
        t.datagram(&dgram(2, 100, "10.0.0.1:49200", "10.0.0.2:30010", &req));
        t.datagram(&dgram(3, 101, "10.0.0.2:30010", "10.0.0.1:49200", &resp));
        t.datagram(&dgram(4, 102, "10.0.0.2:30010", "10.0.0.1:49200", &other));
        t.datagram(&dgram(5, 103, "10.0.0.2:30010", "10.0.0.1:49200", &ind));
        // Random bytes starting with 0: not STUN.
        t.datagram(&dgram(
            6,
            104,
            "10.0.0.2:30010",
            "10.0.0.1:49200",
            &[0u8; 40],
        ));
        // Then RTP on the validated pair counts from its first packet.
        t.datagram(&dgram(
            7,
            120,
            "10.0.0.2:30010",
            "10.0.0.1:49200",
            &rtp_pkt(1, 0, 77, 8),
        ));
        let r = t.finish();
        assert_eq!(r.stun_messages, 5);
        assert_eq!(r.stun_indications, 1);
        assert_eq!(r.stun_unmatched_responses, 1);
        assert_eq!(r.stun.len(), 1);
        let x = &r.stun[0];
        assert_eq!(x.retransmission_frames, vec![2]);
        assert_eq!(x.response_frame, Some(3));
        assert_eq!(x.response_class.as_deref(), Some("success"));
        assert_eq!(x.ice_role.as_deref(), Some("controlling"));
        assert!(x.is_ice_check() && x.answered());
        assert_eq!(r.rtp.len(), 1);
        assert_eq!(r.rtp[0].recognised_by, "stun");
    }

    #[test]
    fn rtcp_is_counted_not_taken_for_rtp() {
        let mut t = MediaTracker::default();
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
        for i in 0..5 {
            t.datagram(&dgram(i, 0, "10.0.0.1:4001", "10.0.0.2:5001", &rr));
        }
        let r = t.finish();
        assert_eq!(r.rtcp_packets, 5);
        assert!(r.rtp.is_empty());
    }

    #[test]
    fn stun_over_tcp_across_segments() {
        let mut t = MediaTracker::default();
        let req = stun_msg(0x0003, 4, &[(0x0019, &[17, 0, 0, 0])]);
        let mut framed = (req.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&req);
        framed.extend_from_slice(&framed.clone());
        let flow = Flow {
            src: addr("10.0.0.1:5555"),
            dst: addr("10.0.0.2:443"),
        };
        let time = Timestamp::new(1, 0);
        let (a, b) = framed.split_at(7);
        for (i, part) in [a, b].into_iter().enumerate() {
            t.stream(&StreamEvent::Data {
                flow,
                frame: 10 + i as u64,
                origin: 10 + i as u64,
                time,
                data: part,
            });
        }
        let r = t.finish();
        assert_eq!(r.stun_messages, 2);
        assert_eq!(r.stun[0].request_frame, 11);
        assert_eq!(r.stun[0].retransmission_frames, vec![11]);
        assert_eq!(r.stun[0].transport, Transport::Tcp);
    }

    #[test]
    fn softphone_signalling_flow() {
        let mut t = MediaTracker::default();
        let c = addr("10.0.0.1:41230");
        let s = addr("10.0.0.2:2230");
        let time = Timestamp::new(1, 0);
        t.stream(&StreamEvent::Data {
            flow: Flow { src: c, dst: s },
            frame: 4,
            origin: 4,
            time,
            data: b"hello",
        });
        t.stream(&StreamEvent::Data {
            flow: Flow { src: s, dst: c },
            frame: 6,
            origin: 6,
            time,
            data: b"hi",
        });
        let r = t.finish();
        assert_eq!(r.softphone.len(), 1);
        let f = &r.softphone[0];
        assert_eq!((f.client, f.server), (c, s));
        assert_eq!((f.first_frame, f.last_frame, f.segments), (4, 6, 2));
        assert_eq!((f.client_bytes, f.server_bytes), (5, 2));
    }
}
