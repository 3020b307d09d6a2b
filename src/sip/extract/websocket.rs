//! SIP over WebSocket (RFC 7118) on a TCP stream direction: the HTTP Upgrade handshake
//! skipped, then WebSocket frames (RFC 6455 §5.2) unmasked and reassembled, one SIP
//! message per WebSocket message.
//!
//! Stage: sip (framing). Input: a stream direction classified as WebSocket.
//! Output: whole [`RawMessage`]s (transport [`Transport::Ws`]); oversized messages counted
//! as dropped in [`ExtractStats`].

use super::evidence::note_dropped;
use super::stream::{Mode, Stream};
use super::{ExtractStats, MAX_MESSAGE};
use crate::net::Transport;
use crate::sip::message::{self, Detect, Provenance, RawMessage};

/// WebSocket handshake, then frames (RFC 6455 §5.2).
pub(super) fn frame_ws(
    s: &mut Stream,
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
                src: s.flow.src,
                dst: s.flow.dst,
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
