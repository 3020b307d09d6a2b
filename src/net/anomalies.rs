//! What the network stage could not decode or had to drop, as anomalies for the report:
//! IP fragments never completed, conflicting or dropped at the reassembly cap; SCTP
//! messages never completed, dropped at the reassembly cap or over the message cap; TCP
//! directions closed at the connection cap and holes in streams; frames of link types it
//! does not read. Input: the decoder's counts; output: one [`Anomaly`] per kind of trouble
//! seen.

use crate::capture::Anomaly;

use super::{Decoder, link};

impl Decoder {
    fn defrag_limit(&self) -> usize {
        self.defrag.max_pending()
    }

    fn tcp_limit(&self) -> usize {
        self.tcp.max_connections()
    }

    /// Trouble seen at this stage, as anomalies for the report.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        self.anomalies_numbered(&|n| n)
    }

    /// [`Decoder::anomalies`], the frame numbers in their messages shown as `shown` says
    /// (a merged read: each in its own file's numbers); their `frames` stay as decoded.
    pub fn anomalies_numbered(&self, shown: &dyn Fn(u64) -> u64) -> Vec<Anomaly> {
        let first = |frames: &[u64]| frames.first().map_or(0, |&n| shown(n));
        let mut v = Vec::new();
        let d = &self.defrag.stats;
        if d.incomplete > 0 {
            v.push(Anomaly {
                kind: "ip-fragments-incomplete",
                message: format!(
                    "{} fragmented IP datagram(s) never completed (first fragment in frame {}); their content was not analysed",
                    d.incomplete,
                    first(&d.incomplete_frames)
                ),
                frames: d.incomplete_frames.clone(),
                count: d.incomplete,
                flow: None,
            });
        }
        if d.invalid > 0 {
            v.push(Anomaly {
                kind: "ip-fragments-invalid",
                message: format!(
                    "{} IP fragment(s) conflicted with the rest of their datagram and were dropped",
                    d.invalid
                ),
                frames: Vec::new(),
                count: d.invalid,
                flow: None,
            });
        }
        if d.evicted > 0 {
            v.push(Anomaly {
                kind: "ip-fragment-limit",
                message: format!(
                    "{} fragmented IP datagram(s) dropped unfinished because {} were already under reassembly (first in frame {}; raise {})",
                    d.evicted,
                    self.defrag_limit(),
                    first(&d.evicted_frames),
                    crate::limits::Limits::FRAGMENTS,
                ),
                frames: d.evicted_frames.clone(),
                count: d.evicted,
                flow: None,
            });
        }
        let s = &self.sctp.stats;
        if s.incomplete > 0 {
            v.push(Anomaly {
                kind: "sctp-fragments-incomplete",
                message: format!(
                    "{} SCTP user message(s) never completed (a chunk missing or the capture ended; first in frame {}); their content was not analysed",
                    s.incomplete,
                    first(&s.incomplete_frames)
                ),
                frames: s.incomplete_frames.clone(),
                count: s.incomplete,
                flow: None,
            });
        }
        if s.evicted > 0 {
            v.push(Anomaly {
                kind: "sctp-reassembly-limit",
                message: format!(
                    "{} SCTP user message(s) dropped unfinished because {} were already under reassembly (first in frame {}; raise {})",
                    s.evicted,
                    self.sctp.max_pending(),
                    first(&s.evicted_frames),
                    crate::limits::Limits::FRAGMENTS,
                ),
                frames: s.evicted_frames.clone(),
                count: s.evicted,
                flow: None,
            });
        }
        if s.too_large > 0 {
            v.push(Anomaly {
                kind: "sctp-message-limit",
                message: format!(
                    "{} SCTP user message(s) over {} bytes dropped (first in frame {}; raise {})",
                    s.too_large,
                    self.sctp.max_message(),
                    first(&s.too_large_frames),
                    crate::limits::Limits::SIP_MESSAGE,
                ),
                frames: s.too_large_frames.clone(),
                count: s.too_large,
                flow: None,
            });
        }
        let t = &self.tcp.stats;
        if t.evicted > 0 {
            v.push(Anomaly {
                kind: "tcp-connection-limit",
                message: format!(
                    "{} open TCP stream direction(s) closed because {} connections were already followed (first in frame {}; raise {})",
                    t.evicted,
                    self.tcp_limit(),
                    first(&t.evicted_frames),
                    crate::limits::Limits::TCP_CONNECTIONS,
                ),
                frames: t.evicted_frames.clone(),
                count: t.evicted,
                flow: None,
            });
        }
        if t.gaps > 0 {
            v.push(Anomaly {
                kind: "tcp-gap",
                message: format!(
                    "{} hole(s) in TCP streams never filled (segments not captured), first before frame {}",
                    t.gaps,
                    first(&t.gap_frames)
                ),
                frames: t.gap_frames.clone(),
                count: t.gaps,
                flow: None,
            });
        }
        for (t, skipped) in &self.stats.unknown_erf_types {
            let n = skipped.count;
            v.push(Anomaly {
                kind: "unknown-linktype",
                message: format!("{n} ERF record(s) of type {t}, which sipdiag does not decode"),
                frames: skipped.first_frames.clone(),
                count: n,
                flow: None,
            });
        }
        for (lt, skipped) in &self.stats.unknown_linktypes {
            let n = skipped.count;
            v.push(Anomaly {
                kind: "unknown-linktype",
                message: match link::linktype_name(*lt) {
                    "" => {
                        format!("{n} frame(s) with link type {lt}, which sipdiag does not decode")
                    }
                    name => format!(
                        "{n} frame(s) with link type {lt} ({name}), which sipdiag does not decode"
                    ),
                },
                frames: skipped.first_frames.clone(),
                count: n,
                flow: None,
            });
        }
        v
    }
}
