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
//!   UDP is not taken for RTP. A stream no SDP describes is listed (tshark's heuristic RTP
//!   view counts it too) but judged by the media rules only when it is consistent: enough
//!   packets, a stable SSRC, timestamps advancing at an audio or video clock
//!   ([`heuristic`]). RTP relayed in TURN Send/Data indications counts for the
//!   client-server addresses, as Wireshark shows it.
//!
//! Per stream: packets, loss = expected - received with extended sequence numbers
//! (RFC 3550 §A.1/§A.3, duplicates make it negative), interarrival jitter (§A.8) on the
//! stream's main payload format at its clock rate, current, mean and maximum. The clock
//! rate is the `a=rtpmap` rate of the SDP that announced the stream's address (RFC 8866
//! §6.6: L16/48000, speex/32000, opus/48000, …), or for a stream no SDP announced the
//! static payload type's (RFC 3551 tables 4/5; G.722 is 8000 Hz, §4.5.2). A payload type
//! the SDP does not list, or a dynamic one without SDP, has no known clock: its jitter is
//! not measured (and says why) rather than measured at a guessed rate. These are the figures of
//! Wireshark's RTP stream statistics, with two exceptions: a forward jump of 3000 or more
//! sequence numbers, which §A.1 takes for a restart of the sender rather than for loss;
//! and addresses that a later call's SDP announces again while the sender keeps its SSRC
//! (a PBX recycling its RTP ports, a sender replaying a recording as sipp does). There
//! Wireshark keeps one stream per addresses and SSRC, its sequence numbers starting over
//! (negative loss, seconds of jitter); here each call's packets are a stream of their
//! own, counted for that call.
//!
//! Memory is bounded: every table has a cap ([`crate::limits::Limits::media_flows`] UDP
//! flows, the others [`crate::limits::MediaTable`]s), each raisable by its flag, and TCP
//! flows examined for STUN buffer at most [`MAX_TCP_BUFFER`] bytes each.

pub mod analysis;
pub mod heuristic;
mod index;
pub mod rtp;
pub mod stun;
mod tracker;

use std::net::SocketAddr;

use serde::Serialize;

use crate::capture::Timestamp;
use crate::net::{IcmpError, Transport};
use crate::sip::sdp::{Direction, Payload};

pub use analysis::{IceSession, IceSide, Side};
pub(crate) use index::MediaIndex;
pub use tracker::{EndedMedia, MediaTracker, Rows, announced_addrs};

/// UDP flows (one direction of an address pair) tracked at once, by default.
pub const MAX_FLOWS: usize = crate::limits::Limits::DEFAULT.media_flows;
/// Bytes buffered per TCP direction while a STUN message is incomplete.
pub const MAX_TCP_BUFFER: usize = 70_000;
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
    /// Message type of the request, e.g. `0x0001` (Binding request), as Wireshark prints it.
    pub method: String,
    /// The request's method by name, as JSON names STUN methods: `binding`, `allocate`, …
    pub method_name: &'static str,
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
    pub call_id: Option<std::sync::Arc<str>>,
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
    /// Clock rate (Hz) the jitter is measured at; `None`: jitter not measured (the jitter
    /// fields are 0, `jitter_note` says why).
    pub clock_rate: Option<u32>,
    /// Why the jitter was not measured.
    pub jitter_note: Option<String>,
    /// `audio` or `video`: the SDP's `m=` line, else the static payload type (RFC 3551);
    /// `None` when unknown.
    pub kind: Option<crate::sip::sdp::Name>,
    /// Whether media rules may judge the stream: always for streams announced in SDP; for
    /// streams no SDP describes (recognised by STUN or by their sequence numbers), only when
    /// consistent ([`heuristic`]).
    pub consistent: bool,
    /// Why a stream no SDP describes is not judged.
    pub inconsistency: Option<String>,
}

impl RtpStream {
    /// Whether this is a video stream (judged by loss only).
    pub fn is_video(&self) -> bool {
        self.kind.as_deref() == Some("video")
    }

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
///
/// Kept for every announced address until the report is written (`analyze`), or until
/// its call has ended and nothing refers to it ([`MediaTracker::retiring`], `media`), so it
/// is compact: the `m=` section's description is shared by every address announced with
/// the same one
/// ([`AnnouncedFormat`], interned by the tracker), and a call's announcements share one
/// Call-ID. JSON keeps the flat shape `call_id, addr, frame, codecs, kind, direction,
/// candidate, payloads, received, sent, rtp_received, rtp_sent`.
#[derive(Debug, Clone)]
pub struct Announced {
    pub call_id: std::sync::Arc<str>,
    pub addr: SocketAddr,
    pub frame: u64,
    /// What the `m=` section says of the media.
    pub format: std::sync::Arc<AnnouncedFormat>,
    /// ICE candidate type (`host`, `srflx`, …) when announced by `a=candidate`; `None` for
    /// the `c=`/`m=` address.
    pub candidate: Option<crate::sip::sdp::Name>,
    /// Non-SIP UDP datagrams seen to / from this address while it was announced.
    pub received: u64,
    pub sent: u64,
    /// RTP packets of recognised streams to / from this address.
    pub rtp_received: u64,
    pub rtp_sent: u64,
}

/// The media an `m=` section describes, shared by the addresses announced with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnnouncedFormat {
    /// `audio`, `video`, …
    pub kind: crate::sip::sdp::Name,
    pub codecs: Vec<crate::sip::sdp::Name>,
    pub direction: Direction,
    pub payloads: Vec<Payload>,
}

impl Serialize for Announced {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = &*self.format;
        let mut st = s.serialize_struct("Announced", 12)?;
        st.serialize_field("call_id", &*self.call_id)?;
        st.serialize_field("addr", &self.addr)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("codecs", &f.codecs)?;
        st.serialize_field("kind", &f.kind)?;
        st.serialize_field("direction", &f.direction)?;
        st.serialize_field("candidate", &self.candidate)?;
        st.serialize_field("payloads", &f.payloads)?;
        st.serialize_field("received", &self.received)?;
        st.serialize_field("sent", &self.sent)?;
        st.serialize_field("rtp_received", &self.rtp_received)?;
        st.serialize_field("rtp_sent", &self.rtp_sent)?;
        st.end()
    }
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
    /// The flow table was full and older flows were forgotten to follow newer ones.
    pub flow_limit: Option<FlowLimit>,
    /// The other tables that were full: what was not tracked beyond them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item_limits: Vec<ItemLimit>,
    /// RTP streams and announcements by address, built on first use so that rules
    /// looking up each call's media stay linear in the number of calls.
    #[serde(skip)]
    pub(crate) index: std::sync::OnceLock<MediaIndex>,
}

/// Media flows forgotten at the flow table's cap ([`crate::limits::Limits::media_flows`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowLimit {
    /// The cap in force.
    pub limit: usize,
    /// Flows forgotten, and the frames of the first few that made room that way.
    pub evicted: u64,
    pub frames: Vec<u64>,
    /// Calls (by Call-ID) whose announced media flows were among them: their media is
    /// not judged.
    pub calls: std::collections::BTreeSet<String>,
}

/// A table of the media tracker that was full (besides the flow table): beyond its cap,
/// new items were not tracked.
#[derive(Debug, Clone, Serialize)]
pub struct ItemLimit {
    /// What the table holds: `sdp-announcements`, `rtp-streams`, `rtp-streams-of-a-flow`
    /// (the SSRCs followed on one flow), `stun-transactions`, `stun-tcp-connections`,
    /// `softphone-connections`, `icmp-errors` ([`crate::limits::MediaTable::name`]).
    pub table: &'static str,
    /// The flag that raises the cap.
    pub flag: &'static str,
    pub cap: usize,
    /// Items not tracked, and the frame of the first.
    pub count: u64,
    pub first_frame: u64,
}

/// Why a call's media is not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJudged {
    /// Some of its flows were forgotten at the flow table's cap.
    FlowsForgotten,
    /// It went on after SDP announcements or RTP streams stopped being tracked.
    NotTracked,
}

impl ItemLimit {
    /// Whether losing items of this table leaves calls' media unjudgeable (their SDP
    /// addresses or their RTP are missing).
    pub fn cuts_calls(&self) -> bool {
        matches!(self.table, "sdp-announcements" | "rtp-streams")
    }
}

impl MediaReport {
    /// The media of this call (whose last message is in `last_frame`) is not judged: some
    /// of its flows were forgotten at the flow table's cap, so its counts may be short; or
    /// it went on after the SDP announcements or RTP streams stopped being tracked.
    pub fn not_judged(&self, call_id: &str, last_frame: u64) -> bool {
        self.why_not_judged(call_id, last_frame).is_some()
    }

    /// The calls whose media is judged: those of `calls` that are not
    /// [`not_judged`](MediaReport::not_judged).
    pub fn judged_calls<'c>(
        &self,
        calls: &'c [crate::calls::Call],
    ) -> impl Iterator<Item = &'c crate::calls::Call> {
        (calls.iter()).filter(|c| !self.not_judged(&c.call_id, c.last_frame))
    }

    /// Why the media of this call is not judged (see [`MediaReport::not_judged`]).
    pub fn why_not_judged(&self, call_id: &str, last_frame: u64) -> Option<NotJudged> {
        if (self.flow_limit.as_ref()).is_some_and(|l| l.calls.contains(call_id)) {
            Some(NotJudged::FlowsForgotten)
        } else if self.media_cut_from().is_some_and(|f| last_frame >= f) {
            Some(NotJudged::NotTracked)
        } else {
            None
        }
    }

    /// The first frame from which SDP announcements or RTP streams were not tracked.
    pub fn media_cut_from(&self) -> Option<u64> {
        (self.item_limits.iter())
            .filter(|l| l.cuts_calls())
            .map(|l| l.first_frame)
            .min()
    }

    /// An item of `table` (full at `cap`) not tracked, in `frame`.
    pub(crate) fn drop_item(&mut self, table: crate::limits::MediaTable, cap: usize, frame: u64) {
        self.dropped += 1;
        match self
            .item_limits
            .iter_mut()
            .find(|l| l.table == table.name())
        {
            Some(l) => l.count += 1,
            None => self.item_limits.push(ItemLimit {
                table: table.name(),
                flag: table.flag(),
                cap,
                count: 1,
                first_frame: frame,
            }),
        }
    }
}

impl MediaReport {
    /// The RTP streams media rules may judge ([`RtpStream::consistent`]). Any stream still
    /// counts as evidence that packets flow (a path that carries WebRTC's padding probes
    /// back works); only judged streams are themselves reported lossy or one-way.
    pub fn judged_rtp(&self) -> impl Iterator<Item = &RtpStream> {
        self.rtp.iter().filter(|s| s.consistent)
    }

    /// The settings in force (defaults when the report was built without any).
    pub fn settings(&self) -> MediaSettings {
        self.settings.clone().unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(dead_code)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
