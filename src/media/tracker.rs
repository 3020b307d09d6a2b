//! The media tracker: classifies each non-SIP datagram and TCP segment as it streams by
//! and keeps the per-flow and per-stream state that becomes the [`MediaReport`].
//!
//! Stage: media. Input: datagrams, ICMP errors and TCP stream events from [`crate::net`],
//! SDP from the SIP calls. Output: [`MediaReport`] on [`MediaTracker::finish`]. Invariants:
//! one hash lookup per RTP packet; every table bounded by the limits of [`super`]. The
//! flow table is kept in least-recently-active order ([`Recency`]): at its cap
//! ([`crate::limits::Limits::media_flows`]) the flow idle the longest is forgotten in
//! constant time, its counts settled and its calls marked as not judged
//! ([`super::FlowLimit`]), so a flood of flows never locks later calls out.

use foldhash::HashMap;
use std::net::SocketAddr;

use super::{
    Announced, CONFIRM_PACKETS, FlowLimit, MAX_ANNOUNCED, MAX_FRAMES_LISTED, MAX_GAP_FRAMES,
    MAX_ICMP, MAX_SIGNAL_FLOWS, MAX_STREAMS, MAX_STREAMS_PER_FLOW, MAX_TCP_BUFFER, MAX_TCP_FLOWS,
    MAX_TRANSACTIONS, MediaReport, MediaSettings, RtpStream, STUN_PORT, SignalFlow,
    StunTransaction, UdpPayload, heuristic, rtp, stun,
};
use crate::capture::Timestamp;
use crate::lru::Recency;
use crate::net::{Datagram, Flow, IcmpError, StreamEvent, Transport};
use crate::sip::sdp::Sdp;

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

    fn remove(&mut self, key: FlowKey) {
        match key {
            FlowKey::V4(k) => self.v4.remove(&k),
            FlowKey::Other(a, b) => self.other.remove(&(a, b)),
        };
    }
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
    /// Packets with an RTP header, and how often the SSRC differed from the previous one's.
    rtp_like: u64,
    ssrc_switches: u64,
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
    /// The payload type jitter is measured on, and its clock.
    jitter_pt: Option<(u8, rtp::Clock)>,
    /// Timestamp progress over packets in sequence ([`heuristic`]).
    ts: heuristic::TsProgress,
    /// The flow the stream belongs to (`u32::MAX` once the flow was forgotten).
    flow: u32,
    /// The flow's `rtp_like` and `ssrc_switches` when it was forgotten.
    flow_counts: (u64, u64),
    last_seq: u16,
    /// Consecutive sequence numbers seen before confirmation.
    run: u32,
    confirmed: bool,
    recognised_by: &'static str,
    dst_ann: Option<u32>,
    src_ann: Option<u32>,
}

impl StreamState {
    fn new(
        src: SocketAddr,
        dst: SocketAddr,
        ssrc: u32,
        frame: u64,
        time: Timestamp,
        flow: u32,
    ) -> Self {
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
            ts: heuristic::TsProgress::default(),
            flow,
            flow_counts: (0, 0),
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
#[derive(Debug)]
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
    /// `flows` by last activity, to forget the one idle longest at the cap.
    flow_order: Recency,
    max_flows: usize,
    /// Slots of `streams` left by unconfirmed streams of forgotten flows.
    free_streams: Vec<u32>,
}

impl Default for MediaTracker {
    fn default() -> Self {
        Self::new(MediaSettings::default())
    }
}

impl MediaTracker {
    pub fn new(settings: MediaSettings) -> Self {
        Self::with_flow_limit(settings, crate::limits::current().media_flows)
    }

    /// A tracker following at most `max_flows` UDP flows at once.
    pub fn with_flow_limit(settings: MediaSettings, max_flows: usize) -> Self {
        MediaTracker {
            settings,
            report: MediaReport::default(),
            flow_index: FlowIndex::default(),
            flows: Vec::new(),
            streams: Vec::new(),
            transactions: HashMap::default(),
            announced_index: HashMap::default(),
            announce_gen: 0,
            signal_index: HashMap::default(),
            tcp: HashMap::default(),
            flow_order: Recency::default(),
            max_flows: max_flows.max(1),
            free_streams: Vec::new(),
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
                let fi = self.counted_flow(d.src, d.dst, d.frame);
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
        let fi = self.counted_flow(d.src, d.dst, d.frame);
        self.rtp_or_other(d.src, d.dst, d.frame, d.time, p, fi);
    }

    /// The flow of a datagram, brought up to date with the announcements and counted for
    /// them.
    fn counted_flow(&mut self, src: SocketAddr, dst: SocketAddr, frame: u64) -> Option<usize> {
        let fi = self.flow(src, dst, frame)?;
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
            let clock_rate = s.jitter_pt.and_then(|(_, c)| c.rate());
            let per_ms = |units: f64| match clock_rate {
                Some(rate) => units * 1000.0 / f64::from(rate),
                None => 0.0,
            };
            let jitter_note = match s.jitter_pt {
                None => Some(
                    "no payload to measure jitter on (only comfort noise or telephone events)"
                        .to_string(),
                ),
                Some((_, rtp::Clock::Rate(_))) => None,
                Some((pt, rtp::Clock::NoRtpmap)) => Some(format!(
                    "payload type {pt} has no clock rate in the SDP of {} (no a=rtpmap)",
                    a.map_or_else(String::new, |a| a.addr.to_string())
                )),
                Some((pt, rtp::Clock::NotInSdp)) => Some(format!(
                    "payload type {pt} is not in the SDP of {} ({})",
                    a.map_or_else(String::new, |a| a.addr.to_string()),
                    a.map_or_else(String::new, |a| a
                        .payloads
                        .iter()
                        .map(|p| p.pt.to_string())
                        .collect::<Vec<_>>()
                        .join(" "))
                )),
                Some((pt, rtp::Clock::Unknown)) => Some(format!(
                    "payload type {pt} is dynamic and no SDP in the capture gives its clock rate"
                )),
            };
            let kind = match a {
                Some(a) => Some(a.kind.clone()),
                None => match crate::sip::sdp::static_clock_rate(pt) {
                    Some(90000) => Some(std::borrow::Cow::Borrowed("video")),
                    Some(_) => Some(std::borrow::Cow::Borrowed("audio")),
                    None => None,
                },
            };
            // Whatever recognised it, a stream no SDP describes must look like media.
            let inconsistency = if s.recognised_by != "sdp" {
                let (rtp_like, switches) = match self.flows.get(s.flow as usize) {
                    Some(f) => (f.rtp_like, f.ssrc_switches),
                    None => s.flow_counts,
                };
                heuristic::inconsistency(s.packets, rtp_like, switches, &s.ts)
            } else {
                None
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
                clock_rate,
                jitter_note,
                kind,
                consistent: inconsistency.is_none(),
                inconsistency,
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

    /// The flow of `src → dst` (seen in `frame`), created when new; at the cap, in the
    /// place of the flow idle the longest.
    fn flow(&mut self, src: SocketAddr, dst: SocketAddr, frame: u64) -> Option<usize> {
        let key = FlowKey::new(src, dst);
        if let Some(i) = self.flow_index.get(key) {
            self.flow_order.touch(i);
            return Some(i as usize);
        }
        let new = FlowState {
            src,
            dst,
            ann_gen: self.announce_gen.wrapping_sub(1),
            dst_ann: None,
            src_ann: None,
            stun: false,
            streams: Vec::new(),
            last_stream: u32::MAX,
            rtp_like: 0,
            ssrc_switches: 0,
            rx: 0,
            tx: 0,
        };
        let i = if self.flows.len() >= self.max_flows {
            let i = self.forget_oldest_flow(frame)?;
            self.flows[i] = new;
            i
        } else {
            self.flows.push(new);
            self.flows.len() - 1
        };
        self.flow_index.insert(key, i as u32);
        self.flow_order.push(i as u32);
        Some(i)
    }

    /// Forgets the flow idle the longest, for a new one seen in `frame`: its counts go to
    /// its announcements, its confirmed streams stay (with the flow's counts), its
    /// unconfirmed ones free their places, and its calls are marked as not judged.
    /// Returns the freed slot.
    fn forget_oldest_flow(&mut self, frame: u64) -> Option<usize> {
        let slot = self.flow_order.oldest()?;
        self.flow_order.remove(slot);
        let i = slot as usize;
        let f = &mut self.flows[i];
        f.settle(&mut self.report.announced);
        self.flow_index.remove(FlowKey::new(f.src, f.dst));
        let counts = (f.rtp_like, f.ssrc_switches);
        let limit = self.report.flow_limit.get_or_insert_with(|| FlowLimit {
            limit: self.max_flows,
            ..FlowLimit::default()
        });
        limit.evicted += 1;
        if limit.frames.len() < 10 {
            limit.frames.push(frame);
        }
        for a in [f.dst_ann, f.src_ann].into_iter().flatten() {
            let call = &self.report.announced[a as usize].call_id;
            if !limit.calls.contains(call) {
                limit.calls.insert(call.clone());
            }
        }
        for si in std::mem::take(&mut f.streams) {
            let s = &mut self.streams[si as usize];
            s.flow = u32::MAX;
            s.flow_counts = counts;
            if !s.confirmed {
                self.free_streams.push(si);
            }
        }
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
        if let Some(ri) = self.flow(d.dst, d.src, d.frame) {
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
                    method_name: super::stun::method_name(m.msg_type),
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
                    && let Some(fi) = self.flow(src, dst, frame)
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
        let switched = self
            .streams
            .get(f.last_stream as usize)
            .is_some_and(|s| s.ssrc != h.ssrc);
        let f = &mut self.flows[fi];
        f.rtp_like += 1;
        f.ssrc_switches += u64::from(switched);
        let f = &self.flows[fi];
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
                let new = StreamState::new(src, dst, h.ssrc, frame, time, fi as u32);
                if f.streams.len() < MAX_STREAMS_PER_FLOW
                    && let Some(si) = self.free_streams.pop()
                {
                    self.streams[si as usize] = new;
                    self.flows[fi].streams.push(si);
                    si as usize
                } else if f.streams.len() < MAX_STREAMS_PER_FLOW && self.streams.len() < MAX_STREAMS
                {
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
                *s = StreamState::new(src, dst, h.ssrc, frame, time, fi as u32);
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
        let in_sequence = matches!(
            outcome,
            rtp::SeqOutcome::First | rtp::SeqOutcome::InOrder { .. }
        );
        s.ts.update(time, h.timestamp, in_sequence);
        // Looked up once per stream, not per packet; again only while the payload type
        // chosen has no clock and another type arrives (that one may have one).
        if s.jitter_pt
            .is_none_or(|(pt, c)| c.rate().is_none() && pt != h.payload_type)
        {
            let listed = dst_ann
                .or(src_ann)
                .map(|i| &self.report.announced[i as usize].payloads[..]);
            let name = listed
                .and_then(|n| n.iter().find(|p| p.pt == h.payload_type))
                .and_then(|p| p.name.as_deref());
            let event = name.is_some_and(|n| {
                n.eq_ignore_ascii_case("telephone-event") || n.eq_ignore_ascii_case("CN")
            });
            if !event && h.payload_type != 13 && h.payload_type != 19 {
                let clock = rtp::Clock::of(h.payload_type, listed);
                if s.jitter_pt.is_none() || clock.rate().is_some() {
                    s.jitter_pt = Some((h.payload_type, clock));
                }
            }
        }
        if let Some((pt, rtp::Clock::Rate(rate))) = s.jitter_pt
            && pt == h.payload_type
            && (in_sequence || outcome == rtp::SeqOutcome::Restart)
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
