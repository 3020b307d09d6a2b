//! Framing SIP on a TCP stream direction: the buffered bytes and the frames that carried
//! them, the first look that tells SIP from WebSocket, TLS and other traffic, and the cut
//! by Content-Length (RFC 3261 §18.3) with resynchronisation on the next start line.
//!
//! Stage: sip (framing). Input: one direction's ordered bytes, as buffered by the
//! [`Extractor`](super::Extractor). Output: whole [`RawMessage`]s; garbage, header-limit
//! and body-limit counts in [`ExtractStats`].

use std::collections::VecDeque;

use super::{Caps, ExtractStats, MAX_HEADER};
use crate::capture::Timestamp;
use crate::net::{Flow, Transport};
use crate::sip::message::{self, Detect, Provenance, RawMessage, Start};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
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
pub(super) struct Chunk {
    pub(super) end: usize,
    pub(super) frame: u64,
    pub(super) origin: u64,
    pub(super) time: Timestamp,
}

pub(super) struct Stream {
    /// The direction whose bytes these are.
    pub(super) flow: Flow,
    pub(super) mode: Mode,
    pub(super) buf: Vec<u8>,
    pub(super) chunks: VecDeque<Chunk>,
    /// A WebSocket message being assembled from fragments.
    pub(super) ws_msg: Vec<u8>,
    pub(super) ws_frames: Vec<u64>,
    /// Bytes of a body over the message cap still to arrive: discarded unread.
    pub(super) skip: usize,
}

impl Stream {
    pub(super) fn new(flow: Flow) -> Self {
        Stream {
            flow,
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
    pub(super) fn take(&mut self, n: usize) -> (Vec<u64>, u64, Timestamp) {
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

    pub(super) fn clear(&mut self) -> Option<u64> {
        let first = self.chunks.front().map(|c| c.frame);
        self.buf.clear();
        self.chunks.clear();
        first
    }
}

/// First look at a stream direction; with [`Mode::Sip`], the start line found at its
/// first byte that is not CR or LF (for [`frame_sip`], which would look for it there).
pub(super) fn classify(data: &[u8]) -> (Mode, Option<Start>) {
    let d = trim_crlf(data);
    if d.is_empty() {
        return (Mode::Unknown, None);
    }
    let undecided = !d.contains(&b'\n') && !d.contains(&b'\r') && d.len() < MAX_HEADER;
    if d.len() >= 3 && (0x14..=0x17).contains(&d[0]) && d[1] == 3 && d[2] <= 4 {
        return (Mode::Tls, None);
    }
    if d.starts_with(b"GET ") || d.starts_with(b"HTTP/1.1 101") {
        let head = &d[..d.len().min(4096)];
        let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
        if lower.contains("upgrade: websocket") || lower.contains("sec-websocket") {
            return (Mode::WsHandshake, None);
        }
    }
    if let Detect::Sip(start) = message::detect(d) {
        return (Mode::Sip, Some(start));
    }
    if undecided && d[0].is_ascii_alphabetic() {
        return (Mode::Unknown, None);
    }
    (Mode::Other, None)
}

pub(super) fn trim_crlf(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
    &d[n..]
}

/// Offset of the first line in `data` that starts a SIP message (`at_start`: also
/// consider offset 0).
pub(super) fn resync_point(data: &[u8], at_start: bool) -> Option<usize> {
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

/// Frames the whole messages buffered in `s`. `known`: the start line at the buffer's
/// first byte that is not CR or LF, when [`classify`] has just found it.
pub(super) fn frame_sip(
    s: &mut Stream,
    caps: Caps,
    mut known: Option<Start>,
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
        // A start line begins with a letter: CR and LF were all the keep-alive trimmed
        // before one that `classify` found.
        let detected = match known.take() {
            Some(start) => Detect::Sip(start),
            None => message::detect(&s.buf),
        };
        let Detect::Sip(start) = detected else {
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
            src: s.flow.src,
            dst: s.flow.dst,
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
    pub(super) fn take_peek(&self, n: usize) -> (Vec<u64>, u64, Timestamp) {
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
