//! What framing found wrong, kept as evidence and reported: SIP over UDP rebuilt from IP
//! fragments, TLS flows, partial messages dropped, and the anomalies made of them and of
//! the other counts in [`ExtractStats`].
//!
//! Stage: sip (framing). Input: datagrams and stream events the [`Extractor`] noted.
//! Output: [`ExtractStats`] entries; [`Anomaly`]s from [`Extractor::anomalies`].

use super::{ExtractStats, Extractor, FRAGMENTED_FLOWS, FRAGMENTED_FRAMES, FragmentedSip, TlsFlow};
use crate::capture::Anomaly;
use crate::net::{Datagram, Flow};

impl Extractor {
    /// Trouble seen at this stage, as anomalies.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        self.anomalies_numbered(&|n| n)
    }

    /// [`Extractor::anomalies`], the frame numbers in their messages shown as `shown`
    /// says (a merged read: each in its own file's numbers); their `frames` stay as read.
    pub fn anomalies_numbered(&self, shown: &dyn Fn(u64) -> u64) -> Vec<Anomaly> {
        let first = |frames: &[u64]| frames.first().map_or(0, |&n| shown(n));
        let mut v = Vec::new();
        let s = &self.stats;
        if s.cut > 0 {
            v.push(Anomaly {
                kind: "sip-cut",
                message: format!(
                    "{} SIP message(s) cut short by the capture's snaplen (first in frame {}); bodies and late headers are missing",
                    s.cut, first(&s.cut_frames)
                ),
                frames: s.cut_frames.clone(),
                count: s.cut,
                flow: None,
            });
        }
        if s.dropped > 0 {
            v.push(Anomaly {
                kind: "sip-incomplete",
                message: format!(
                    "{} SIP message(s) on TCP could not be completed (missing segments or capture ended), first data in frame {}",
                    s.dropped,
                    first(&s.dropped_frames)
                ),
                frames: s.dropped_frames.clone(),
                count: s.dropped,
                flow: None,
            });
        }
        let limits = [
            (
                &s.header_limit,
                "sip-header-limit",
                "SIP header block(s) on TCP longer than",
                self.caps.header,
                crate::limits::Limits::SIP_HEADER,
                "given up unread",
            ),
            (
                &s.body_limit,
                "sip-body-limit",
                "SIP message(s) on TCP announced a Content-Length taking them over",
                self.caps.message,
                crate::limits::Limits::SIP_MESSAGE,
                "their headers were read and their bodies skipped",
            ),
        ];
        for (n, kind, what, cap, flag, done) in limits {
            if n.count > 0 {
                v.push(Anomaly {
                    kind,
                    message: format!(
                        "{} {what} {cap} bytes, first in frame {}: {done} (raise {flag})",
                        n.count,
                        first(&n.frames),
                    ),
                    frames: n.frames.clone(),
                    count: n.count,
                    flow: None,
                });
            }
        }
        let n = &s.connection_limit;
        if n.count > 0 {
            v.push(Anomaly {
                kind: "sip-connection-limit",
                message: format!(
                    "{} SIP message(s) on TCP left unfinished because their connection was closed to follow newer ones, first data in frame {} (raise {})",
                    n.count,
                    first(&n.frames),
                    crate::limits::Limits::TCP_CONNECTIONS,
                ),
                frames: n.frames.clone(),
                count: n.count,
                flow: None,
            });
        }
        for f in s.fragmented.values() {
            v.push(Anomaly {
                kind: "sip-fragmented",
                message: format!(
                    "{} SIP message(s) over UDP {} → {} arrived in several IP fragments; the largest, {} of {} bytes, in {} fragments (frames {})",
                    f.messages,
                    f.src,
                    f.dst,
                    f.largest_kind,
                    f.largest_bytes,
                    f.largest_frames.len(),
                    f.largest_frames
                        .iter()
                        .map(|&n| shown(n).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                frames: f.largest_frames.clone(),
                count: f.messages,
                flow: Some((f.src, f.dst)),
            });
        }
        if s.fragmented_unlisted > 0 {
            v.push(Anomaly {
                kind: "sip-fragmented",
                message: format!(
                    "{} more SIP message(s) over UDP arrived in IP fragments on further flows",
                    s.fragmented_unlisted
                ),
                frames: Vec::new(),
                count: s.fragmented_unlisted,
                flow: None,
            });
        }
        for t in s.tls.values() {
            v.push(Anomaly {
                kind: "tls",
                message: format!(
                    "TLS on TCP {} → {} (frames {}–{}, {} segments): encrypted, cannot be read",
                    t.src,
                    t.dst,
                    shown(t.first_frame),
                    shown(t.last_frame),
                    t.segments
                ),
                frames: vec![t.first_frame],
                count: t.segments,
                flow: Some((t.src, t.dst)),
            });
        }
        v
    }
}

/// A SIP message over UDP whose datagram was rebuilt from several IP fragments
/// (`d.frames`, RFC 791 §2.3 / RFC 8200 §4.5).
pub(super) fn note_fragmented(stats: &mut ExtractStats, d: &Datagram<'_>) {
    let key = (d.src, d.dst);
    if stats.fragmented.len() >= FRAGMENTED_FLOWS && !stats.fragmented.contains_key(&key) {
        stats.fragmented_unlisted += 1;
        return;
    }
    let f = stats.fragmented.entry(key).or_insert(FragmentedSip {
        src: d.src,
        dst: d.dst,
        messages: 0,
        largest_bytes: 0,
        largest_kind: String::new(),
        largest_frames: Vec::new(),
        largest_shown: Vec::new(),
        frames: Vec::new(),
    });
    f.messages += 1;
    if f.frames.len() < FRAGMENTED_FRAMES {
        f.frames.push(d.frame);
    }
    if d.payload.len() > f.largest_bytes {
        f.largest_bytes = d.payload.len();
        f.largest_kind = start_kind(d.payload);
        f.largest_frames.clear();
        f.largest_frames.extend_from_slice(d.frames);
        f.largest_shown.clear();
        f.largest_shown.extend_from_slice(d.frames);
    }
}

/// The method of a request or the status code of a response, from its start line.
pub(super) fn start_kind(payload: &[u8]) -> String {
    let line = payload.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
    let mut words = line.filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let word = if first.starts_with(b"SIP/") {
        words.next().unwrap_or_default()
    } else {
        first
    };
    String::from_utf8_lossy(&word[..word.len().min(32)]).into_owned()
}

pub(super) fn note_tls(stats: &mut ExtractStats, flow: Flow, frame: u64) {
    let key = (flow.src, flow.dst);
    if stats.tls.len() >= 1000 && !stats.tls.contains_key(&key) {
        return;
    }
    let t = stats.tls.entry(key).or_insert(TlsFlow {
        src: flow.src,
        dst: flow.dst,
        first_frame: frame,
        last_frame: frame,
        segments: 0,
    });
    t.last_frame = frame;
    t.segments += 1;
}

pub(super) fn note_dropped(stats: &mut ExtractStats, first: Option<u64>) {
    stats.dropped += 1;
    if stats.dropped_frames.len() < 20
        && let Some(f) = first
    {
        stats.dropped_frames.push(f);
    }
}
