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
//!
//! A tracker may also retire what has ended as the capture is read
//! ([`MediaTracker::retiring`]), for a listing written as it goes: its memory then
//! follows the media in progress.
//!
//! The parts: the flow table (`flows`), RTP streams (`streams`), STUN (`stun_messages`),
//! TCP signalling and STUN over TCP (`tcp`), retirement (`retire`), and `finish`.

mod announced;
mod finish;
mod flows;
mod retire;
mod streams;
mod stun_messages;
mod tcp;

use foldhash::HashMap;
use std::net::SocketAddr;

use super::{MediaReport, MediaSettings, UdpPayload};
use crate::limits::{Limits, MediaTable};
use crate::lru::Recency;
use crate::net::{Datagram, Flow, IcmpError, StreamEvent, Transport};

pub use announced::announced_addrs;
use flows::{FlowIndex, FlowState};
use retire::Retire;
pub use retire::{EndedMedia, Rows};
use streams::StreamState;
use tcp::TcpState;

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
    /// The announcements of each call, to forget them when the call is let go.
    by_call: announced::ByCall,
    signal_index: HashMap<(SocketAddr, SocketAddr), u32>,
    tcp: HashMap<Flow, TcpState>,
    /// `flows` by last activity, to forget the one idle longest at the cap.
    flow_order: Recency,
    /// When retiring: the flows of calls in progress that have been quiet for
    /// [`flows::QUIET_SECS`], taken out of `flow_order` by the time they were found so
    /// (oldest first), until a datagram comes or their call ends. The quiet check does not
    /// look at them again (a call on hold for hours is not looked at every minute); at the
    /// cap they are forgotten only once `flow_order` is empty, as the flows of calls in
    /// progress.
    parked: Recency,
    /// The caps of its tables (the flow table's at least 1).
    limits: Limits,
    /// Slots of `streams` left by unconfirmed streams of forgotten flows.
    free_streams: Vec<u32>,
    /// What retirement keeps, when retiring ([`MediaTracker::retiring`]).
    retire: Option<Box<Retire>>,
}

impl Default for MediaTracker {
    fn default() -> Self {
        Self::new(MediaSettings::default())
    }
}

impl MediaTracker {
    pub fn new(settings: MediaSettings) -> Self {
        Self::with_limits(settings, crate::limits::current())
    }

    /// A tracker whose tables are capped by `limits`.
    pub fn with_limits(settings: MediaSettings, limits: Limits) -> Self {
        MediaTracker {
            settings,
            report: MediaReport::default(),
            flow_index: FlowIndex::default(),
            flows: Vec::new(),
            streams: Vec::new(),
            transactions: HashMap::default(),
            announced_index: HashMap::default(),
            announce_gen: 0,
            by_call: announced::ByCall::default(),
            signal_index: HashMap::default(),
            tcp: HashMap::default(),
            flow_order: Recency::default(),
            parked: Recency::default(),
            limits: Limits {
                media_flows: limits.media_flows.max(1),
                ..limits
            },
            free_streams: Vec::new(),
            retire: None,
        }
    }
    /// A non-SIP datagram only counted, not followed (a reading that needs the count
    /// alone): as [`MediaTracker::datagram`] counts it.
    pub fn count_datagram(&mut self, d: &Datagram<'_>) {
        self.report.udp_datagrams += u64::from(d.transport == Transport::Udp);
    }

    /// A non-SIP datagram.
    pub fn datagram(&mut self, d: &Datagram<'_>) {
        if d.transport != Transport::Udp {
            return;
        }
        match UdpPayload::read(d.payload) {
            Some(p) => self.read_datagram(d, p),
            None => {
                self.clock(d.time.secs, d.frame);
                self.report.udp_datagrams += 1;
                let fi = self.counted_flow(d.src, d.dst, d.frame, d.time);
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
        self.clock(d.time.secs, d.frame);
        self.report.udp_datagrams += 1;
        if p == UdpPayload::Empty {
            return;
        }
        let fi = self.counted_flow(d.src, d.dst, d.frame, d.time);
        self.rtp_or_other(d.src, d.dst, d.frame, d.time, p, fi);
    }

    /// The flow of a datagram, brought up to date with the announcements and counted for
    /// them.
    fn counted_flow(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: crate::capture::Timestamp,
    ) -> Option<usize> {
        let fi = self.flow(src, dst, frame, time)?;
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
        if self.report.icmp.len() < self.limits.icmp_errors {
            self.report.icmp.push(e.clone());
        } else {
            (self.report).drop_item(MediaTable::IcmpErrors, self.limits.icmp_errors, e.frame);
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
}
