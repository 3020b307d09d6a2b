//! Framing: datagrams and ordered stream bytes → whole SIP messages.
//!
//! UDP and SCTP carry one message per datagram. On TCP, messages are cut by
//! Content-Length (RFC 3261 §18.3): several messages in one segment and one message over
//! several segments are both normal; CRLF keep-alives (RFC 5626 §4.4.1) are skipped. A
//! stream that starts with an HTTP Upgrade becomes WebSocket (RFC 7118: one SIP message per
//! WebSocket message); a stream that starts with a TLS record is encrypted signalling and
//! only counted. Each message carries the frames that held its bytes; its `frame` is the
//! one holding its last byte, which is how Wireshark numbers a reassembled PDU.
//!
//! Bounds: per stream at most [`MAX_MESSAGE`] bytes are buffered, in all streams together
//! at most `MAX_BUFFERED`; beyond that the partial message is dropped and counted. Both
//! per-stream caps can be raised ([`crate::limits::Limits`]): a header block longer than
//! its cap is given up (`sip-header-limit`); a Content-Length that would take the message
//! over its cap hands the headers on and skips the body's bytes unread, so that they are
//! never taken for SIP messages (`sip-body-limit`).
//!
//! The parts: a TCP direction's buffer and SIP framing on it (`stream`), SIP over
//! WebSocket (`websocket`), and the evidence kept and reported as anomalies (`evidence`).

mod evidence;
mod stream;
#[cfg(test)]
mod tests;
mod websocket;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::capture::Timestamp;
use crate::net::{Datagram, Flow, StreamEvent, Transport};

use super::message::{self, Detect, Provenance, RawMessage, Start};

/// The largest message (headers + body) accepted on a stream, by default.
pub const MAX_MESSAGE: usize = crate::limits::Limits::DEFAULT.sip_message;
/// Longest header block before the stream is declared garbage and resynchronised, by
/// default.
const MAX_HEADER: usize = crate::limits::Limits::DEFAULT.sip_header;
/// Bytes buffered in all streams together.
const MAX_BUFFERED: usize = 64 << 20;

use evidence::{note_dropped, note_fragmented, note_tls};
use stream::{Chunk, Mode, Stream, classify, frame_sip, resync_point};
use websocket::frame_ws;

/// An encrypted signalling flow.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TlsFlow {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub first_frame: u64,
    pub last_frame: u64,
    pub segments: u64,
}

/// SIP messages over UDP on one flow that arrived in several IP fragments.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FragmentedSip {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// How many such messages.
    pub messages: u64,
    /// The largest of them: its size in bytes, its method or status code, and every
    /// frame that carried one of its fragments (the last one completed it).
    pub largest_bytes: usize,
    pub largest_kind: String,
    pub largest_frames: Vec<u64>,
    /// `largest_frames` as a message quotes them: the same numbers, but in their own
    /// file's numbers when several files are read merged (`app::merged`), where
    /// `largest_frames` count through the merged stream as every cited frame does.
    #[serde(skip)]
    pub largest_shown: Vec<u64>,
    /// The frame that completed each message, the first `FRAGMENTED_FRAMES`.
    pub frames: Vec<u64>,
}

/// Frames listed per fragmented flow.
const FRAGMENTED_FRAMES: usize = 20;
/// Flows with fragmented SIP kept (beyond, messages are only counted).
const FRAGMENTED_FLOWS: usize = 100;

/// Counters and evidence for the report.
#[derive(Debug, Default, Clone)]
pub struct ExtractStats {
    pub messages: u64,
    /// TLS flows by (src, dst), at most 1000 remembered.
    pub tls: BTreeMap<(SocketAddr, SocketAddr), TlsFlow>,
    /// SIP datagrams cut by snaplen: their frames.
    pub cut_frames: Vec<u64>,
    pub cut: u64,
    /// Partial messages dropped (gap, end of stream, size cap), with a frame each.
    pub dropped: u64,
    pub dropped_frames: Vec<u64>,
    /// Bytes on SIP streams that were not part of any message.
    pub garbage_bytes: u64,
    /// SIP over UDP rebuilt from IP fragments, by flow (at most `FRAGMENTED_FLOWS`).
    pub fragmented: BTreeMap<(SocketAddr, SocketAddr), FragmentedSip>,
    /// Fragmented messages on flows beyond that cap.
    pub fragmented_unlisted: u64,
    /// Header blocks over the header cap, given up.
    pub header_limit: Noted,
    /// Messages whose body was over the message cap: headers handed on, body skipped.
    pub body_limit: Noted,
    /// Partial messages lost when their TCP direction was closed to make room.
    pub connection_limit: Noted,
}

/// Events of one kind: how many, and the frames of the first few.
#[derive(Debug, Default, Clone)]
pub struct Noted {
    pub count: u64,
    pub frames: Vec<u64>,
}

impl Noted {
    fn add(&mut self, frame: Option<u64>) {
        self.count += 1;
        if self.frames.len() < 20
            && let Some(f) = frame
        {
            self.frames.push(f);
        }
    }
}

/// The per-stream caps in force ([`crate::limits::Limits`]).
#[derive(Debug, Clone, Copy)]
struct Caps {
    message: usize,
    header: usize,
}

pub struct Extractor {
    /// The open directions' streams by the reassembler's number of the direction
    /// ([`StreamEvent`]'s `dir`): no hashing of a flow per event. Boxed: a number not in
    /// use costs a pointer.
    streams: Vec<Option<Box<Stream>>>,
    buffered: usize,
    caps: Caps,
    pub stats: ExtractStats,
}

impl Default for Extractor {
    fn default() -> Self {
        let l = crate::limits::current();
        Extractor::with_caps(l.sip_message, l.sip_header)
    }
}

/// The open stream numbered `dir` in `streams`, if it is `flow`'s.
fn open(streams: &mut [Option<Box<Stream>>], dir: u32, flow: Flow) -> Option<&mut Stream> {
    let s = streams.get_mut(dir as usize)?.as_deref_mut()?;
    (s.flow == flow).then_some(s)
}

/// The first test of [`sip_start`], for filtering datagrams before anything else is
/// done with them: a SIP message starts with a letter.
pub fn may_be_sip(payload: &[u8]) -> bool {
    payload.first().is_some_and(u8::is_ascii_alphabetic)
}

/// Quick test for the hot path: could this datagram payload be SIP?
pub fn is_sip_datagram(payload: &[u8]) -> bool {
    sip_start(payload).is_some()
}

/// The start line of a datagram payload that is SIP, for [`Extractor::datagram`].
pub fn sip_start(payload: &[u8]) -> Option<Start> {
    match message::detect(payload) {
        Detect::Sip(start) => Some(start),
        Detect::No => None,
    }
}

impl Extractor {
    /// An extractor that reads messages of at most `message` bytes with header blocks of
    /// at most `header` bytes on streams.
    pub fn with_caps(message: usize, header: usize) -> Self {
        Extractor {
            streams: Vec::new(),
            buffered: 0,
            caps: Caps {
                message: message.max(1),
                header: header.max(1),
            },
            stats: ExtractStats::default(),
        }
    }

    /// A UDP/SCTP payload known to start with a SIP start line (`start`, from
    /// [`sip_start`]): counted and handed on as one message.
    pub fn datagram(
        &mut self,
        d: &Datagram<'_>,
        start: Start,
        out: &mut dyn FnMut(RawMessage<'_>),
    ) {
        let p = Provenance {
            frame: d.frame,
            // One frame (the rule): no list, the message's `frame` says it.
            frames: if d.frames.len() > 1 {
                d.frames.to_vec()
            } else {
                Vec::new()
            },
            time: d.time,
            src: d.src,
            dst: d.dst,
            transport: d.transport,
        };
        if d.transport == Transport::Udp && d.frames.len() > 1 {
            note_fragmented(&mut self.stats, d);
        }
        if d.cut {
            self.stats.cut += 1;
            if self.stats.cut_frames.len() < 20 {
                self.stats.cut_frames.push(d.frame);
            }
        }
        self.stats.messages += 1;
        out(RawMessage {
            data: d.payload,
            prov: p,
            datagram: true,
            cut: d.cut,
            start,
        });
    }

    /// Ordered bytes, holes and ends from TCP reassembly.
    pub fn stream(&mut self, e: &StreamEvent<'_>, out: &mut dyn FnMut(RawMessage<'_>)) {
        match *e {
            StreamEvent::Data {
                flow,
                dir,
                frame,
                origin,
                time,
                data,
            } => self.data((flow, dir), (frame, origin), time, data, out),
            StreamEvent::Gap { flow, dir, .. } => {
                if let Some(s) = open(&mut self.streams, dir, flow) {
                    if !s.buf.is_empty() && matches!(s.mode, Mode::Sip | Mode::Ws) {
                        self.buffered -= s.buf.len();
                        let first = s.clear();
                        note_dropped(&mut self.stats, first);
                    } else {
                        self.buffered -= s.buf.len();
                        s.clear();
                    }
                    if s.mode == Mode::Sip {
                        // Resynchronise on the next start line.
                        s.mode = Mode::Other;
                    }
                }
            }
            StreamEvent::End {
                flow, dir, evicted, ..
            } => {
                if open(&mut self.streams, dir, flow).is_some() {
                    self.end(dir, evicted);
                }
            }
        }
    }

    /// Ends the stream numbered `dir`: a partial SIP message left in it is counted as
    /// dropped (`evicted`: by the connection cap).
    fn end(&mut self, dir: u32, evicted: bool) {
        let Some(mut s) = self.streams.get_mut(dir as usize).and_then(Option::take) else {
            return;
        };
        self.buffered -= s.buf.len();
        let meaningful = s.buf.iter().any(|c| !c.is_ascii_whitespace());
        if meaningful && s.mode == Mode::Sip {
            let first = s.clear();
            if evicted {
                self.stats.connection_limit.add(first);
            } else {
                note_dropped(&mut self.stats, first);
            }
        }
    }

    fn data(
        &mut self,
        (flow, dir): (Flow, u32),
        (frame, origin): (u64, u64),
        time: Timestamp,
        data: &[u8],
        out: &mut dyn FnMut(RawMessage<'_>),
    ) {
        let at = dir as usize;
        if at >= self.streams.len() {
            self.streams.resize_with(at + 1, || None);
        }
        // A number still held by another flow (directions numbered otherwise than by the
        // reassembler, which ends a direction before it reuses its number): that one ends.
        if self.streams[at].as_ref().is_some_and(|s| s.flow != flow) {
            self.end(dir, false);
        }
        let s = self.streams[at].get_or_insert_with(|| Box::new(Stream::new(flow)));
        if s.skip > 0 {
            // The rest of a body over the cap.
            let n = s.skip.min(data.len());
            s.skip -= n;
            if n == data.len() {
                return;
            }
            return self.data((flow, dir), (frame, origin), time, &data[n..], out);
        }
        match s.mode {
            Mode::Tls => {
                note_tls(&mut self.stats, flow, frame);
                return;
            }
            Mode::Other => {
                // Look for a start line at a line beginning in this segment.
                let Some(at) = resync_point(data, true) else {
                    return;
                };
                s.mode = Mode::Sip;
                return self.data((flow, dir), (frame, origin), time, &data[at..], out);
            }
            _ => {}
        }
        let limit = if s.mode == Mode::Unknown {
            self.caps.header
        } else {
            self.caps.message
        };
        if s.buf.len() + data.len() > limit || self.buffered + data.len() > MAX_BUFFERED {
            self.buffered -= s.buf.len();
            let first = s.clear();
            if s.mode != Mode::Unknown {
                note_dropped(&mut self.stats, first.or(Some(frame)));
            }
            s.mode = Mode::Other;
            return;
        }
        s.buf.extend_from_slice(data);
        self.buffered += data.len();
        s.chunks.push_back(Chunk {
            end: s.buf.len(),
            frame,
            origin,
            time,
        });
        let before = s.buf.len();
        let mut known = None;
        if s.mode == Mode::Unknown {
            // Decide on everything buffered so far.
            (s.mode, known) = classify(&s.buf);
            match s.mode {
                Mode::Unknown => return,
                Mode::Tls => {
                    note_tls(&mut self.stats, flow, frame);
                    s.clear();
                }
                Mode::Other => match resync_point(&s.buf, true) {
                    Some(at) => {
                        s.take(at);
                        s.mode = Mode::Sip;
                    }
                    None => {
                        s.clear();
                    }
                },
                _ => {}
            }
        }
        match s.mode {
            Mode::Sip => frame_sip(s, self.caps, known, &mut self.stats, out),
            Mode::WsHandshake | Mode::Ws => frame_ws(s, &mut self.stats, out),
            _ => {}
        }
        self.buffered -= before - s.buf.len();
    }

    /// Partial messages left when the capture ended.
    pub fn finish(&mut self) {
        let mut left: Vec<(Flow, u32)> = (self.streams.iter().zip(0..))
            .filter_map(|(s, dir)| Some((s.as_ref()?.flow, dir)))
            .collect();
        left.sort();
        for (_, dir) in left {
            self.end(dir, false);
        }
        self.streams = Vec::new();
        self.buffered = 0;
    }
}
