//! SCTP DATA chunks (RFC 9260 §3.3.1) → whole user messages.
//!
//! A message may be split over several DATA chunks (B bit on the first, E bit on the
//! last, consecutive TSNs); fragments are joined per association direction and stream,
//! bounded in size and in the number of messages under reassembly.

use std::collections::HashMap;
use std::net::SocketAddr;

const MAX_MESSAGE: usize = 1 << 18;
const MAX_PENDING: usize = 1024;
/// Bytes held in all partial messages together.
const MAX_PENDING_BYTES: usize = 16 << 20;

struct Partial {
    next_tsn: u32,
    data: Vec<u8>,
    frames: Vec<u64>,
}

/// One complete user message.
pub(crate) struct UserMessage<'a> {
    pub data: &'a [u8],
    pub frames: &'a [u64],
}

#[derive(Default)]
pub(crate) struct Sctp {
    pending: HashMap<(SocketAddr, SocketAddr, u16), Partial>,
    pending_bytes: usize,
}

impl Sctp {
    /// Walks the chunks of one SCTP packet; `out` gets each complete user message.
    pub fn packet(
        &mut self,
        data: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        out: &mut dyn FnMut(UserMessage<'_>),
    ) {
        let mut off = 12;
        while let Some(hdr) = data.get(off..off + 4) {
            let (kind, flags) = (hdr[0], hdr[1]);
            let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
            if len < 4 {
                return;
            }
            if kind == 0 && len >= 16 {
                let end = (off + len).min(data.len());
                if let (Some(user), Some(h)) =
                    (data.get(off + 16..end), data.get(off + 4..off + 10))
                {
                    let tsn = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                    let sid = u16::from_be_bytes([h[4], h[5]]);
                    self.chunk(flags, tsn, (src, dst, sid), user, frame, out);
                }
            }
            off += (len + 3) & !3;
        }
    }

    fn chunk(
        &mut self,
        flags: u8,
        tsn: u32,
        key: (SocketAddr, SocketAddr, u16),
        user: &[u8],
        frame: u64,
        out: &mut dyn FnMut(UserMessage<'_>),
    ) {
        let (begin, end) = (flags & 0x02 != 0, flags & 0x01 != 0);
        if begin && end {
            out(UserMessage {
                data: user,
                frames: &[frame],
            });
            return;
        }
        if begin {
            if self.pending.len() >= MAX_PENDING || self.pending_bytes > MAX_PENDING_BYTES {
                self.pending.clear();
                self.pending_bytes = 0;
            }
            self.pending_bytes += user.len();
            if let Some(old) = self.pending.insert(
                key,
                Partial {
                    next_tsn: tsn.wrapping_add(1),
                    data: user.to_vec(),
                    frames: vec![frame],
                },
            ) {
                self.pending_bytes -= old.data.len();
            }
            return;
        }
        let Some(p) = self.pending.get_mut(&key) else {
            return;
        };
        if p.next_tsn != tsn || p.data.len() + user.len() > MAX_MESSAGE {
            if let Some(old) = self.pending.remove(&key) {
                self.pending_bytes -= old.data.len();
            }
            return;
        }
        self.pending_bytes += user.len();
        p.data.extend_from_slice(user);
        p.next_tsn = tsn.wrapping_add(1);
        if p.frames.last() != Some(&frame) {
            p.frames.push(frame);
        }
        if end && let Some(p) = self.pending.remove(&key) {
            self.pending_bytes -= p.data.len();
            out(UserMessage {
                data: &p.data,
                frames: &p.frames,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(flags: u8, tsn: u32, user: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0, flags]);
        p.extend_from_slice(&((16 + user.len()) as u16).to_be_bytes());
        p.extend_from_slice(&tsn.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(user);
        p
    }

    #[test]
    fn joins_fragments() {
        let mut s = Sctp::default();
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let mut got = Vec::new();
        s.packet(&chunk(0x02, 7, b"hel"), a, a, 1, &mut |m| {
            got.push((m.data.to_vec(), m.frames.to_vec()))
        });
        s.packet(&chunk(0x01, 8, b"lo"), a, a, 2, &mut |m| {
            got.push((m.data.to_vec(), m.frames.to_vec()))
        });
        s.packet(&chunk(0x03, 9, b"x"), a, a, 3, &mut |m| {
            got.push((m.data.to_vec(), m.frames.to_vec()))
        });
        assert_eq!(
            got,
            vec![(b"hello".to_vec(), vec![1, 2]), (b"x".to_vec(), vec![3])]
        );
    }
}
