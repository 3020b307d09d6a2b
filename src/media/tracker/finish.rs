//! The end of the media tracker's scan: pending counts settled on their announcements,
//! confirmed streams described (codec, clock rate, jitter in milliseconds, consistency) and
//! sorted, the report indexed.
//!
//! Stage: media. Input: the tracker's flows and streams after the last packet.
//! Output: the [`MediaReport`].

use super::MediaTracker;
use crate::media::{MediaReport, RtpStream, heuristic, rtp};

impl MediaTracker {
    pub fn finish(mut self) -> MediaReport {
        for f in &mut self.flows {
            f.settle(&mut self.report.announced);
        }
        if self.retire.take().is_some() {
            self.finish_retiring();
            self.report.settings = Some(self.settings);
            return self.report;
        }
        self.drop_forgotten_announcements();
        let mut streams: Vec<RtpStream> = Vec::with_capacity(self.streams.len());
        for si in 0..self.streams.len() as u32 {
            if self.streams[si as usize].confirmed {
                streams.push(self.stream_row(si));
            }
        }
        // The states go before the rows are sorted and indexed (the memory is reused).
        self.streams = Vec::new();
        streams.sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
        self.report.rtp = streams;
        self.report.settings = Some(self.settings);
        // Built now, while the calls are being finished beside this (see `app`), rather
        // than by whichever rule asks first while the others wait.
        self.report.index();
        self.report
    }

    /// The row of confirmed stream `si` (its gap frames move into it), its packets
    /// counted for its announcements.
    pub(super) fn stream_row(&mut self, si: u32) -> RtpStream {
        let gap_frames = std::mem::take(&mut self.streams[si as usize].gap_frames);
        let row = self.describe_stream(si, gap_frames);
        let s = &self.streams[si as usize];
        let (dst_ann, src_ann, packets) = (s.dst_ann, s.src_ann, s.packets);
        if let Some(i) = dst_ann {
            self.report.announced[i as usize].rtp_received += packets;
        }
        if let Some(i) = src_ann {
            self.report.announced[i as usize].rtp_sent += packets;
        }
        row
    }

    /// The row of confirmed stream `si` as it stands, with `gap_frames`; nothing changes.
    pub(super) fn describe_stream(&self, si: u32, gap_frames: Vec<u64>) -> RtpStream {
        let s = &self.streams[si as usize];
        let ann = s.dst_ann.or(s.src_ann);
        let a = ann.map(|i| &self.report.announced[i as usize]);
        let pts = &s.payload_types[..usize::from(s.payload_type_count)];
        let pt = pts.first().copied().unwrap_or(0);
        let codec = a
            .and_then(|a| a.format.payloads.iter().find(|p| p.pt == pt))
            .and_then(|p| p.name.clone())
            .or_else(|| crate::sip::sdp::static_payload_name(pt).map(std::borrow::Cow::Borrowed));
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
                    .format
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
            Some(a) => Some(a.format.kind.clone()),
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
        RtpStream {
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
            gap_frames,
            clock_rate,
            jitter_note,
            kind,
            consistent: inconsistency.is_none(),
            inconsistency,
        }
    }
}
