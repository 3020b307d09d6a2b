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

use std::collections::{BTreeMap, VecDeque};

/// foldhash, as for the other per-packet flow tables (see `crate::lru`).
use foldhash::HashMap;
use std::net::SocketAddr;

use crate::capture::{Anomaly, Timestamp};
use crate::net::{Datagram, Flow, StreamEvent, Transport};

use super::message::{self, Detect, Provenance, RawMessage, Start};

/// The largest message (headers + body) accepted on a stream, by default.
pub const MAX_MESSAGE: usize = crate::limits::Limits::DEFAULT.sip_message;
/// Longest header block before the stream is declared garbage and resynchronised, by
/// default.
const MAX_HEADER: usize = crate::limits::Limits::DEFAULT.sip_header;
/// Bytes buffered in all streams together.
const MAX_BUFFERED: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing seen yet.
    Unknown,
    Sip,
    /// HTTP upgrade handshake in progress.
    WsHandshake,
    Ws,
    Tls,
    /// Not SIP (yet): each new segment is checked for a SIP start line.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    end: usize,
    frame: u64,
    origin: u64,
    time: Timestamp,
}

struct Stream {
    mode: Mode,
    buf: Vec<u8>,
    chunks: VecDeque<Chunk>,
    /// A WebSocket message being assembled from fragments.
    ws_msg: Vec<u8>,
    ws_frames: Vec<u64>,
    /// Bytes of a body over the message cap still to arrive: discarded unread.
    skip: usize,
}

impl Stream {
    fn new() -> Self {
        Stream {
            mode: Mode::Unknown,
            buf: Vec::new(),
            chunks: VecDeque::new(),
            ws_msg: Vec::new(),
            ws_frames: Vec::new(),
            skip: 0,
        }
    }

    /// Removes the first `n` bytes; returns the frames that carried them and the
    /// frame/time holding byte `n - 1`.
    fn take(&mut self, n: usize) -> (Vec<u64>, u64, Timestamp) {
        let taken = self.take_peek(n);
        while self.chunks.front().is_some_and(|c| c.end <= n) {
            self.chunks.pop_front();
        }
        for c in &mut self.chunks {
            c.end -= n;
        }
        self.buf.drain(..n);
        taken
    }

    fn clear(&mut self) -> Option<u64> {
        let first = self.chunks.front().map(|c| c.frame);
        self.buf.clear();
        self.chunks.clear();
        first
    }
}

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
    /// The frame that completed each message, the first [`FRAGMENTED_FRAMES`].
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
    streams: HashMap<Flow, Stream>,
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
            streams: HashMap::default(),
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
                frame,
                origin,
                time,
                data,
            } => self.data(flow, (frame, origin), time, data, out),
            StreamEvent::Gap { flow, .. } => {
                if let Some(s) = self.streams.get_mut(&flow) {
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
            StreamEvent::End { flow, evicted, .. } => {
                if let Some(mut s) = self.streams.remove(&flow) {
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
            }
        }
    }

    fn data(
        &mut self,
        flow: Flow,
        (frame, origin): (u64, u64),
        time: Timestamp,
        data: &[u8],
        out: &mut dyn FnMut(RawMessage<'_>),
    ) {
        let s = self.streams.entry(flow).or_insert_with(Stream::new);
        if s.skip > 0 {
            // The rest of a body over the cap.
            let n = s.skip.min(data.len());
            s.skip -= n;
            if n == data.len() {
                return;
            }
            return self.data(flow, (frame, origin), time, &data[n..], out);
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
                return self.data(flow, (frame, origin), time, &data[at..], out);
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
        if s.mode == Mode::Unknown {
            // Decide on everything buffered so far.
            s.mode = classify(&s.buf);
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
            Mode::Sip => frame_sip(s, flow, self.caps, &mut self.stats, out),
            Mode::WsHandshake | Mode::Ws => frame_ws(s, flow, &mut self.stats, out),
            _ => {}
        }
        self.buffered -= before - s.buf.len();
    }

    /// Partial messages left when the capture ended.
    pub fn finish(&mut self) {
        let mut flows: Vec<Flow> = self.streams.keys().copied().collect();
        flows.sort();
        for f in flows {
            if let Some(mut s) = self.streams.remove(&f)
                && s.mode == Mode::Sip
                && s.buf.iter().any(|c| !c.is_ascii_whitespace())
            {
                let first = s.clear();
                note_dropped(&mut self.stats, first);
            }
        }
        self.buffered = 0;
    }

    /// Trouble seen at this stage, as anomalies.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        let mut v = Vec::new();
        let s = &self.stats;
        if s.cut > 0 {
            v.push(Anomaly {
                kind: "sip-cut",
                message: format!(
                    "{} SIP message(s) cut short by the capture's snaplen (first in frame {}); bodies and late headers are missing",
                    s.cut, s.cut_frames[0]
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
                    s.dropped_frames.first().copied().unwrap_or(0)
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
                        n.frames.first().copied().unwrap_or(0),
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
                    n.frames.first().copied().unwrap_or(0),
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
                        .map(u64::to_string)
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
                    t.src, t.dst, t.first_frame, t.last_frame, t.segments
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
fn note_fragmented(stats: &mut ExtractStats, d: &Datagram<'_>) {
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
    }
}

/// The method of a request or the status code of a response, from its start line.
fn start_kind(payload: &[u8]) -> String {
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

fn note_tls(stats: &mut ExtractStats, flow: Flow, frame: u64) {
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

fn note_dropped(stats: &mut ExtractStats, first: Option<u64>) {
    stats.dropped += 1;
    if stats.dropped_frames.len() < 20
        && let Some(f) = first
    {
        stats.dropped_frames.push(f);
    }
}

/// First look at a stream direction.
fn classify(data: &[u8]) -> Mode {
    let d = trim_crlf(data);
    if d.is_empty() {
        return Mode::Unknown;
    }
    let undecided = !d.contains(&b'\n') && !d.contains(&b'\r') && d.len() < MAX_HEADER;
    if d.len() >= 3 && (0x14..=0x17).contains(&d[0]) && d[1] == 3 && d[2] <= 4 {
        return Mode::Tls;
    }
    if d.starts_with(b"GET ") || d.starts_with(b"HTTP/1.1 101") {
        let head = &d[..d.len().min(4096)];
        let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
        if lower.contains("upgrade: websocket") || lower.contains("sec-websocket") {
            return Mode::WsHandshake;
        }
    }
    if matches!(message::detect(d), Detect::Sip(_)) {
        return Mode::Sip;
    }
    if undecided && d[0].is_ascii_alphabetic() {
        return Mode::Unknown;
    }
    Mode::Other
}

fn trim_crlf(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
    &d[n..]
}

/// Offset of the first line in `data` that starts a SIP message (`at_start`: also
/// consider offset 0).
fn resync_point(data: &[u8], at_start: bool) -> Option<usize> {
    if at_start && matches!(message::detect(trim_crlf(data)), Detect::Sip(_)) {
        return Some(0);
    }
    let mut i = 0;
    while let Some(p) = data[i..].iter().position(|&c| c == b'\n') {
        let at = i + p + 1;
        if matches!(message::detect(&data[at..]), Detect::Sip(_)) {
            return Some(at);
        }
        i = at;
    }
    None
}

fn frame_sip(
    s: &mut Stream,
    flow: Flow,
    caps: Caps,
    stats: &mut ExtractStats,
    out: &mut dyn FnMut(RawMessage<'_>),
) {
    loop {
        // CRLF keep-alives between messages.
        let ws = s
            .buf
            .iter()
            .take_while(|c| matches!(c, b'\r' | b'\n' | b' ' | b'\t'))
            .count();
        if ws > 0 {
            s.take(ws);
        }
        if s.buf.is_empty() {
            return;
        }
        if !s.buf.contains(&b'\n') {
            if s.buf.len() > caps.header {
                stats.garbage_bytes += s.buf.len() as u64;
                s.clear();
            }
            return;
        }
        let Detect::Sip(start) = message::detect(&s.buf) else {
            // Garbage: skip to the next start line, or keep the last partial line.
            let cut = match resync_point(&s.buf, false) {
                Some(at) => at,
                None => s.buf.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1),
            };
            if cut == 0 {
                return;
            }
            stats.garbage_bytes += cut as u64;
            s.take(cut);
            continue;
        };
        let Some((head_len, body_start)) = message::header_end(&s.buf) else {
            if s.buf.len() > caps.header {
                let first = s.clear();
                stats.header_limit.add(first);
                // Resynchronise on the next start line.
                s.mode = Mode::Other;
            }
            return;
        };
        let (body_len, skip) = match message::content_length(&s.buf[..head_len]) {
            Some(Ok(n)) if body_start.saturating_add(n) <= caps.message => (n, 0),
            // Over the cap: the headers go on (parsing notes the missing body), the body
            // is skipped unread rather than framed as messages of its own.
            Some(Ok(n)) => (0, n),
            _ => (0, 0),
        };
        let total = body_start + body_len;
        if s.buf.len() < total {
            return;
        }
        let (frames, frame, time) = s.take_peek(total);
        let p = Provenance {
            frame,
            frames,
            time,
            src: flow.src,
            dst: flow.dst,
            transport: Transport::Tcp,
        };
        // `detect` above saw a start line: the message parses.
        stats.messages += 1;
        if skip > 0 {
            stats.body_limit.add(Some(frame));
        }
        out(RawMessage {
            data: &s.buf[..total],
            prov: p,
            datagram: false,
            cut: false,
            start,
        });
        s.take(total);
        if skip > 0 {
            let here = skip.min(s.buf.len());
            s.take(here);
            s.skip = skip - here;
        }
    }
}

impl Stream {
    /// Like [`Stream::take`] without removing anything.
    fn take_peek(&self, n: usize) -> (Vec<u64>, u64, Timestamp) {
        let mut frames = Vec::new();
        let mut last = (0, Timestamp::default());
        let mut start = 0;
        for c in &self.chunks {
            if start >= n {
                break;
            }
            for f in [c.origin, c.frame] {
                if !frames.contains(&f) {
                    frames.push(f);
                }
            }
            last = (c.frame, c.time);
            start = c.end;
        }
        frames.sort_unstable();
        (frames, last.0, last.1)
    }
}

/// WebSocket handshake, then frames (RFC 6455 §5.2).
fn frame_ws(
    s: &mut Stream,
    flow: Flow,
    stats: &mut ExtractStats,
    out: &mut dyn FnMut(RawMessage<'_>),
) {
    if s.mode == Mode::WsHandshake {
        let Some((_, body_start)) = message::header_end(&s.buf) else {
            return;
        };
        s.take(body_start);
        s.mode = Mode::Ws;
    }
    loop {
        let b = &s.buf;
        if b.len() < 2 {
            return;
        }
        let (fin, opcode) = (b[0] & 0x80 != 0, b[0] & 0x0f);
        let masked = b[1] & 0x80 != 0;
        let (len, mut off) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (
                u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]),
                10,
            ),
            126 | 127 => return,
            n => (u64::from(n), 2),
        };
        if len > MAX_MESSAGE as u64 {
            let first = s.clear();
            note_dropped(stats, first);
            s.mode = Mode::Other;
            return;
        }
        let mask = if masked {
            if b.len() < off + 4 {
                return;
            }
            let m = [b[off], b[off + 1], b[off + 2], b[off + 3]];
            off += 4;
            Some(m)
        } else {
            None
        };
        let total = off + len as usize;
        if b.len() < total {
            return;
        }
        let mut payload = b[off..total].to_vec();
        if let Some(m) = mask {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= m[i % 4];
            }
        }
        let (frames, frame, time) = s.take(total);
        if opcode >= 8 {
            continue; // control frame
        }
        if s.ws_msg.len() + payload.len() > MAX_MESSAGE {
            s.ws_msg.clear();
            s.ws_frames.clear();
            note_dropped(stats, frames.first().copied());
            continue;
        }
        s.ws_msg.extend_from_slice(&payload);
        s.ws_frames.extend(frames);
        if !fin {
            continue;
        }
        let msg = std::mem::take(&mut s.ws_msg);
        let mut frames = std::mem::take(&mut s.ws_frames);
        frames.dedup();
        if let Detect::Sip(start) = message::detect(&msg) {
            let p = Provenance {
                frame,
                frames,
                time,
                src: flow.src,
                dst: flow.dst,
                transport: Transport::Ws,
            };
            stats.messages += 1;
            out(RawMessage {
                data: &msg,
                prov: p,
                datagram: true,
                cut: false,
                start,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::SipMessage;

    fn flow() -> Flow {
        Flow {
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
        }
    }

    fn feed(chunks: &[&[u8]]) -> (Vec<SipMessage>, ExtractStats) {
        let mut x = Extractor::default();
        let mut msgs = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let e = StreamEvent::Data {
                flow: flow(),
                frame: i as u64 + 1,
                origin: i as u64 + 1,
                time: Timestamp::default(),
                data: c,
            };
            x.stream(&e, &mut |m| msgs.extend(m.parse()));
        }
        x.stream(
            &StreamEvent::End {
                flow: flow(),
                frame: 99,
                evicted: false,
            },
            &mut |m| msgs.extend(m.parse()),
        );
        (msgs, x.stats)
    }

    const OPT: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n";
    const INV: &[u8] = b"INVITE sip:a SIP/2.0\r\nCall-ID: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";

    /// Fragmented UDP SIP is kept per flow: the largest message's size, kind and
    /// fragments; at most `FRAGMENTED_FLOWS` flows, the rest counted.
    #[test]
    fn fragmented_datagrams_are_noted_per_flow_and_bounded() {
        let mut x = Extractor::default();
        let ok = b"SIP/2.0 200 OK\r\nCall-ID: 1\r\n\r\n";
        for (i, (payload, frames)) in [(INV, &[1u64, 2][..]), (ok, &[3, 4, 5]), (OPT, &[6])]
            .into_iter()
            .enumerate()
        {
            let d = Datagram {
                frame: *frames.last().unwrap(),
                frames,
                time: Timestamp::default(),
                src: flow().src,
                dst: flow().dst,
                transport: Transport::Udp,
                payload,
                cut: false,
            };
            let start = sip_start(payload).unwrap_or_else(|| panic!("message {i}"));
            x.datagram(&d, start, &mut |_| {});
        }
        let f = &x.stats.fragmented[&(flow().src, flow().dst)];
        assert_eq!(f.messages, 2, "the one-frame OPTIONS is not fragmented");
        assert_eq!(
            (f.largest_bytes, f.largest_kind.as_str()),
            (INV.len(), "INVITE")
        );
        assert_eq!(f.largest_frames, [1, 2]);
        assert_eq!(f.frames, [2, 5]);
        assert_eq!(start_kind(ok), "200");
        for port in 0..(FRAGMENTED_FLOWS as u16 + 5) {
            let src = SocketAddr::from(([10, 0, 0, 9], 1000 + port));
            let d = Datagram {
                frame: 9,
                frames: &[8, 9],
                time: Timestamp::default(),
                src,
                dst: flow().dst,
                transport: Transport::Udp,
                payload: OPT,
                cut: false,
            };
            x.datagram(&d, sip_start(OPT).unwrap(), &mut |_| {});
        }
        assert_eq!(x.stats.fragmented.len(), FRAGMENTED_FLOWS);
        assert_eq!(x.stats.fragmented_unlisted, 6);
        let a = x.anomalies();
        assert_eq!(
            a.iter().filter(|a| a.kind == "sip-fragmented").count(),
            FRAGMENTED_FLOWS + 1
        );
    }

    #[test]
    fn two_messages_in_one_segment() {
        let both = [OPT, INV].concat();
        let (m, _) = feed(&[&both]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].frame, m[1].frame), (1, 1));
        assert_eq!(m[1].body, b"v=0\r\n");
    }

    #[test]
    fn one_message_over_three_segments() {
        let (a, rest) = INV.split_at(10);
        let (b, c) = rest.split_at(40);
        let (m, _) = feed(&[a, b, c]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].frame, 3);
        assert_eq!(m[0].frames(), [1, 2, 3]);
    }

    #[test]
    fn message_ending_mid_segment_then_next_completes_later() {
        let mut first = OPT.to_vec();
        first.extend_from_slice(&INV[..20]);
        let (m, _) = feed(&[&first, &INV[20..]]);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].frames(), [1]);
        assert_eq!(m[1].frames(), [1, 2]);
        assert_eq!(m[1].frame, 2);
    }

    #[test]
    fn crlf_keepalives_are_skipped() {
        let (m, s) = feed(&[b"\r\n\r\n", OPT, b"\r\n", INV]);
        assert_eq!(m.len(), 2);
        assert_eq!(s.dropped, 0);
    }

    #[test]
    fn unfinished_message_is_counted() {
        let (m, s) = feed(&[OPT, &INV[..30]]);
        assert_eq!(m.len(), 1);
        assert_eq!(s.dropped, 1);
        assert_eq!(s.dropped_frames, vec![2]);
    }

    #[test]
    fn tls_is_detected_not_parsed() {
        let (m, s) = feed(&[
            &[0x16, 0x03, 0x01, 0x00, 0x10, 1, 2, 3],
            &[0x17, 3, 3, 0, 1, 9],
        ]);
        assert!(m.is_empty());
        assert_eq!(s.tls.values().next().unwrap().segments, 2);
    }

    #[test]
    fn websocket_message() {
        let hs = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        let mut frame = vec![0x81, 0x80 | 126];
        frame.extend_from_slice(&(OPT.len() as u16).to_be_bytes());
        let key = [1u8, 2, 3, 4];
        frame.extend_from_slice(&key);
        frame.extend(OPT.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        let (m, _) = feed(&[hs, &frame[..10], &frame[10..]]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].transport, Transport::Ws);
        assert_eq!(m[0].frame, 3);
    }

    #[test]
    fn resyncs_after_garbage() {
        let mut g = b"garbage line\r\nmore\r\n".to_vec();
        g.extend_from_slice(OPT);
        let (m, _) = feed(&[&g]);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn endless_lines_and_bodies_stay_bounded() {
        let mut x = Extractor::default();
        let junk = vec![b'A'; 100_000];
        // A header line that never ends; a declared body longer than the stream.
        let starts: [&[u8]; 2] = [
            b"INVITE sip:a SIP/2.0\r\nX-Long: ",
            b"INVITE sip:a SIP/2.0\r\nContent-Length: 1000000\r\n\r\n",
        ];
        let mut completed = 0;
        for (n, start) in starts.iter().enumerate() {
            let f = Flow {
                src: format!("10.0.0.{}:5060", n + 1).parse().unwrap(),
                dst: "10.0.0.9:5060".parse().unwrap(),
            };
            let mut feed = |x: &mut Extractor, data: &[u8], frame: u64| {
                let e = StreamEvent::Data {
                    flow: f,
                    frame,
                    origin: frame,
                    time: Timestamp::default(),
                    data,
                };
                x.stream(&e, &mut |_| completed += 1);
            };
            feed(&mut x, start, 1);
            for i in 0..9 {
                feed(&mut x, &junk, 2 + i);
                assert!(x.buffered <= MAX_MESSAGE, "{}", x.buffered);
            }
            let end = StreamEvent::End {
                flow: f,
                frame: 99,
                evicted: false,
            };
            x.stream(&end, &mut |_| completed += 1);
        }
        assert_eq!(completed, 0);
        assert_eq!(x.buffered, 0);
        assert_eq!(x.stats.header_limit.count, 1, "the endless header line");
        assert_eq!(x.stats.header_limit.frames, vec![1]);
        assert_eq!(x.stats.dropped, 1, "the body cut by the end of the stream");
    }

    fn feed_all(x: &mut Extractor, segs: &[&[u8]], end_evicted: Option<bool>) -> Vec<SipMessage> {
        let mut msgs = Vec::new();
        for (i, d) in segs.iter().enumerate() {
            let e = StreamEvent::Data {
                flow: flow(),
                frame: i as u64 + 1,
                origin: i as u64 + 1,
                time: Timestamp::default(),
                data: d,
            };
            x.stream(&e, &mut |m| msgs.extend(m.parse()));
        }
        if let Some(evicted) = end_evicted {
            let e = StreamEvent::End {
                flow: flow(),
                frame: 50,
                evicted,
            };
            x.stream(&e, &mut |m| msgs.extend(m.parse()));
        }
        msgs
    }

    #[test]
    fn body_over_the_cap_is_skipped_not_framed_as_sip() {
        let mut x = Extractor::with_caps(200, 1000);
        // A 300-byte body made of SIP-looking lines, then a real message.
        let body = "OPTIONS sip:fake SIP/2.0\r\nCall-ID: fake\r\n\r\n".repeat(300 / 44 + 1);
        let body = &body.as_bytes()[..300];
        let head = b"MESSAGE sip:a SIP/2.0\r\nCall-ID: big\r\nContent-Length: 300\r\n\r\n";
        let msgs = feed_all(
            &mut x,
            &[head, &body[..100], &body[100..], OPT],
            Some(false),
        );
        let ids: Vec<_> = msgs.iter().map(|m| m.call_id().unwrap_or("")).collect();
        assert_eq!(
            ids,
            ["big", "1"],
            "headers handed on, body skipped, next message read"
        );
        assert_eq!(msgs[0].frame, 1);
        assert_eq!(x.stats.body_limit.count, 1);
        assert_eq!(x.stats.body_limit.frames, vec![1]);
        assert_eq!(x.stats.dropped, 0);
        let a = x.anomalies();
        let a = a.iter().find(|a| a.kind == "sip-body-limit").unwrap();
        assert!(a.message.contains("--max-sip-message"), "{}", a.message);
        assert_eq!((a.count, a.frames.clone()), (1, vec![1]));
    }

    #[test]
    fn body_over_the_cap_in_the_same_segment_is_skipped_too() {
        let mut x = Extractor::with_caps(100, 1000);
        let mut seg =
            b"MESSAGE sip:a SIP/2.0\r\nCall-ID: big\r\nContent-Length: 120\r\n\r\n".to_vec();
        seg.extend(std::iter::repeat_n(b'x', 120));
        seg.extend_from_slice(OPT);
        let msgs = feed_all(&mut x, &[&seg[..90], &seg[90..]], None);
        let ids: Vec<_> = msgs.iter().map(|m| m.call_id().unwrap_or("")).collect();
        assert_eq!(ids, ["big", "1"]);
        assert_eq!(x.stats.body_limit.count, 1);
    }

    #[test]
    fn message_lost_to_the_connection_cap_has_its_own_count() {
        let mut x = Extractor::default();
        feed_all(
            &mut x,
            &[b"INVITE sip:a SIP/2.0\r\nCall-ID: 5\r\n"],
            Some(true),
        );
        assert_eq!(x.stats.dropped, 0, "not taken for missing segments");
        assert_eq!(x.stats.connection_limit.count, 1);
        assert_eq!(x.stats.connection_limit.frames, vec![1]);
        let kinds: Vec<_> = x.anomalies().iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["sip-connection-limit"]);
    }

    #[test]
    fn hostile_length_is_bounded() {
        let huge = b"INVITE sip:a SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
        let (m, stats) = feed(&[huge, OPT]);
        // The headers are read; what follows is the announced body, skipped unread.
        assert_eq!(m.len(), 1, "the body is not framed as SIP");
        assert_eq!(stats.body_limit.count, 1);
    }
}
