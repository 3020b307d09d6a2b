//! RTP streams of the media tracker: the per-SSRC state of each flow, from the first
//! packet through confirmation (SDP, STUN or a run of sequence numbers) to sequence,
//! jitter and timestamp statistics.
//!
//! Stage: media. Input: read UDP payloads ([`crate::media::UdpPayload`]) of a flow.
//! Output: `StreamState`s in `MediaTracker::streams`, made into [`crate::media::RtpStream`]s
//! by `MediaTracker::finish`; RTCP and DTLS counts in the report.

use crate::limits::MediaTable;
use std::net::SocketAddr;

use super::MediaTracker;
use crate::capture::Timestamp;
use crate::media::{CONFIRM_PACKETS, MAX_GAP_FRAMES, UdpPayload, heuristic, rtp};

#[derive(Debug)]
pub(super) struct StreamState {
    pub(super) src: SocketAddr,
    pub(super) dst: SocketAddr,
    pub(super) ssrc: u32,
    /// Payload types seen, in order (at most 8), kept inline: no allocation per stream.
    pub(super) payload_types: [u8; 8],
    pub(super) payload_type_count: u8,
    pub(super) packets: u64,
    pub(super) first_frame: u64,
    pub(super) last_frame: u64,
    pub(super) first_time: Timestamp,
    pub(super) last_time: Timestamp,
    pub(super) seq: rtp::SeqStats,
    pub(super) late: u64,
    pub(super) gap_frames: Vec<u64>,
    pub(super) jitter: rtp::Jitter,
    /// The payload type jitter is measured on, and its clock.
    pub(super) jitter_pt: Option<(u8, rtp::Clock)>,
    /// Timestamp progress over packets in sequence ([`heuristic`]).
    pub(super) ts: heuristic::TsProgress,
    /// The flow the stream belongs to (`u32::MAX` once the flow was forgotten).
    pub(super) flow: u32,
    /// The flow's `rtp_like` and `ssrc_switches` when it was forgotten.
    pub(super) flow_counts: (u64, u64),
    pub(super) last_seq: u16,
    /// Consecutive sequence numbers seen before confirmation.
    pub(super) run: u32,
    pub(super) confirmed: bool,
    pub(super) recognised_by: &'static str,
    pub(super) dst_ann: Option<u32>,
    pub(super) src_ann: Option<u32>,
}

impl StreamState {
    pub(super) fn new(
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

    /// The stream leaves its flow (forgotten, or gone on under another call), keeping the
    /// flow's `counts` (`rtp_like`, `ssrc_switches`) for its consistency check.
    pub(super) fn detach(&mut self, counts: (u64, u64)) {
        self.flow = u32::MAX;
        self.flow_counts = counts;
    }
}

impl MediaTracker {
    /// Counts what is not RTP; RTP goes on to its stream.
    pub(super) fn rtp_or_other(
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

    pub(super) fn rtp_packet(
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
        let mut found = match self.streams.get(f.last_stream as usize) {
            Some(s) if s.ssrc == h.ssrc => Some(f.last_stream),
            _ => f
                .streams
                .iter()
                .copied()
                .find(|&s| self.streams[s as usize].ssrc == h.ssrc),
        };
        if let Some(s) = found
            && self.another_call(s, dst_ann, src_ann)
        {
            self.end_stream(fi, s);
            found = None;
        }
        let f = &self.flows[fi];
        let si = match found {
            Some(s) => s as usize,
            None => {
                let new = StreamState::new(src, dst, h.ssrc, frame, time, fi as u32);
                let (per_flow, all) = (self.limits.rtp_streams_per_flow, self.limits.rtp_streams);
                if f.streams.len() < per_flow
                    && let Some(si) = self.free_streams.pop()
                {
                    self.streams[si as usize] = new;
                    self.flows[fi].streams.push(si);
                    si as usize
                } else if f.streams.len() < per_flow && self.streams.len() < all {
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
                    // One flow with as many SSRCs, all confirmed, or the stream table full:
                    // a new stream is not followed, and counted once (its next packets
                    // come here too).
                    let (table, cap) = if f.streams.len() >= per_flow {
                        (MediaTable::RtpStreamsOfAFlow, per_flow)
                    } else {
                        (MediaTable::RtpStreams, all)
                    };
                    if f.untracked_ssrc != Some(h.ssrc) {
                        self.flows[fi].untracked_ssrc = Some(h.ssrc);
                        (self.report).drop_item(table, cap, frame);
                    }
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
                .map(|i| &self.report.announced[i as usize].format.payloads[..]);
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

    /// Whether stream `si`, counted for one call's SDP, now passes under another call's:
    /// the addresses (and the SSRC, as a sender that replays a recording keeps it) were
    /// used again by a later call. Looked at only when the flow's announcements changed.
    fn another_call(&self, si: u32, dst_ann: Option<u32>, src_ann: Option<u32>) -> bool {
        let s = &self.streams[si as usize];
        if (s.dst_ann, s.src_ann) == (dst_ann, src_ann) || !s.confirmed {
            return false;
        }
        let call = |a: Option<u32>| a.map(|i| &self.report.announced[i as usize].call_id);
        match (call(s.dst_ann.or(s.src_ann)), call(dst_ann.or(src_ann))) {
            (Some(was), Some(now)) => was != now,
            _ => false,
        }
    }

    /// Ends stream `si` of flow `fi`: it stays a row of its call, as it was, and the
    /// flow's next packet of its SSRC starts a new stream.
    fn end_stream(&mut self, fi: usize, si: u32) {
        let f = &mut self.flows[fi];
        f.streams.retain(|&x| x != si);
        if f.last_stream == si {
            f.last_stream = u32::MAX;
        }
        let counts = (f.rtp_like, f.ssrc_switches);
        self.streams[si as usize].detach(counts);
        self.stream_ended(si);
    }
}
