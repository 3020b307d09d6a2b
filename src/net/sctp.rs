//! SCTP DATA chunks (RFC 9260 §3.3.1) → whole user messages.
//!
//! A message may be split over several DATA chunks (B bit on the first, E bit on the
//! last, consecutive TSNs); fragments are joined per association direction and stream,
//! bounded in size (a user message is a SIP message:
//! [`Limits::sip_message`](crate::limits::Limits::sip_message)) and in the messages under
//! reassembly (as IP datagrams are:
//! [`Limits::fragments`](crate::limits::Limits::fragments), and 16 MiB in all, the frame
//! numbers they keep included). Nothing is dropped silently: what is counted here the
//! decoder reports as anomalies (rules CAP004 and CAP006).

use std::net::SocketAddr;

use crate::lru::LruMap;

/// Bytes held in all partial messages together: their data and their frame numbers.
const MAX_PENDING_BYTES: usize = 16 << 20;
/// What one frame number kept costs.
const FRAME_BYTES: usize = std::mem::size_of::<u64>();
/// First frames kept per count, for evidence.
const FRAMES_LISTED: usize = 10;

struct Partial {
    next_tsn: u32,
    data: Vec<u8>,
    frames: Vec<u64>,
}

impl Partial {
    /// What it holds, as counted against [`MAX_PENDING_BYTES`] (a message sent one byte
    /// per chunk keeps a frame number per byte).
    fn held(&self) -> usize {
        self.data.len() + FRAME_BYTES * self.frames.len()
    }
}

/// One complete user message.
pub(crate) struct UserMessage<'a> {
    pub data: &'a [u8],
    pub frames: &'a [u64],
}

/// User messages that could not be rebuilt, each count with the first frames concerned.
#[derive(Debug, Default, Clone)]
pub(crate) struct SctpStats {
    /// Messages left incomplete: a chunk missing (the next TSN was another, or a middle
    /// or last chunk came without the first), or the capture ended first.
    pub incomplete: u64,
    pub incomplete_frames: Vec<u64>,
    /// Messages dropped unfinished to make room for newer ones (the table's cap).
    pub evicted: u64,
    pub evicted_frames: Vec<u64>,
    /// Messages dropped for growing past the message cap.
    pub too_large: u64,
    pub too_large_frames: Vec<u64>,
}

/// Counts one more, keeping the earliest [`FRAMES_LISTED`] frames in order (a message left
/// at the end of the capture began before the chunks found missing since).
fn note(count: &mut u64, frames: &mut Vec<u64>, frame: u64) {
    *count += 1;
    if frames.len() < FRAMES_LISTED || frames.last().is_some_and(|&l| frame < l) {
        let at = frames.partition_point(|&f| f <= frame);
        frames.insert(at, frame);
        frames.truncate(FRAMES_LISTED);
    }
}

type Key = (SocketAddr, SocketAddr, u16);

pub(crate) struct Sctp {
    /// Messages under reassembly, least recently added-to first out.
    pending: LruMap<Key, Partial>,
    pending_bytes: usize,
    max_pending: usize,
    max_message: usize,
    pub stats: SctpStats,
}

impl Default for Sctp {
    fn default() -> Self {
        let l = crate::limits::current();
        Sctp::new(l.fragments, l.sip_message)
    }
}

impl Sctp {
    /// At most `max_pending` messages under reassembly, each at most `max_message` bytes.
    pub fn new(max_pending: usize, max_message: usize) -> Self {
        Sctp {
            pending: LruMap::default(),
            pending_bytes: 0,
            max_pending: max_pending.max(1),
            max_message: max_message.max(1),
            stats: SctpStats::default(),
        }
    }

    /// The cap on messages under reassembly.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The cap on one message's size.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// The end of the capture: the messages still under reassembly are incomplete.
    pub fn finish(&mut self) {
        while let Some((_, p)) = self.pending.pop_oldest() {
            let first = p.frames.first().copied().unwrap_or(0);
            note(
                &mut self.stats.incomplete,
                &mut self.stats.incomplete_frames,
                first,
            );
        }
        self.pending_bytes = 0;
    }

    /// Drops the message under reassembly at `key` (a chunk of it went missing).
    fn drop_incomplete(&mut self, key: &Key) {
        if let Some(old) = self.pending.remove(key) {
            self.pending_bytes -= old.held();
            let first = old.frames.first().copied().unwrap_or(0);
            note(
                &mut self.stats.incomplete,
                &mut self.stats.incomplete_frames,
                first,
            );
        }
    }

    /// Makes room for one more message: drops the least recently added-to while at a cap.
    fn make_room(&mut self, frame: u64) {
        while (self.pending.len() >= self.max_pending || self.pending_bytes > MAX_PENDING_BYTES)
            && self.evict_oldest(frame)
        {}
    }

    /// Drops the message least recently added to, to make room at `frame`; whether there
    /// was one.
    fn evict_oldest(&mut self, frame: u64) -> bool {
        let Some((_, old)) = self.pending.pop_oldest() else {
            return false;
        };
        self.pending_bytes -= old.held();
        note(
            &mut self.stats.evicted,
            &mut self.stats.evicted_frames,
            frame,
        );
        true
    }

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
        key: Key,
        user: &[u8],
        frame: u64,
        out: &mut dyn FnMut(UserMessage<'_>),
    ) {
        // A DATA chunk without user data is a protocol violation (RFC 9260 §3.3.1, the
        // receiver aborts): it carries nothing, and would only lengthen a frame list.
        if user.is_empty() {
            return;
        }
        let (begin, end) = (flags & 0x02 != 0, flags & 0x01 != 0);
        if begin {
            // A new first chunk: an unfinished message on the same stream lost its end.
            self.drop_incomplete(&key);
            if user.len() > self.max_message {
                note(
                    &mut self.stats.too_large,
                    &mut self.stats.too_large_frames,
                    frame,
                );
                return;
            }
            if end {
                out(UserMessage {
                    data: user,
                    frames: &[frame],
                });
                return;
            }
            self.make_room(frame);
            let p = Partial {
                next_tsn: tsn.wrapping_add(1),
                data: user.to_vec(),
                frames: vec![frame],
            };
            self.pending_bytes += p.held();
            self.pending.insert_absent(key, p);
            return;
        }
        let Some(p) = self.pending.get_mut(&key) else {
            // A middle or last chunk whose first was never seen (or was dropped).
            note(
                &mut self.stats.incomplete,
                &mut self.stats.incomplete_frames,
                frame,
            );
            return;
        };
        if p.next_tsn != tsn {
            self.drop_incomplete(&key);
            return;
        }
        if p.data.len() + user.len() > self.max_message {
            if let Some(old) = self.pending.remove(&key) {
                self.pending_bytes -= old.held();
            }
            note(
                &mut self.stats.too_large,
                &mut self.stats.too_large_frames,
                frame,
            );
            return;
        }
        let before = p.held();
        p.data.extend_from_slice(user);
        p.next_tsn = tsn.wrapping_add(1);
        if p.frames.last() != Some(&frame) {
            p.frames.push(frame);
        }
        self.pending_bytes += p.held() - before;
        if end && let Some(p) = self.pending.remove(&key) {
            self.pending_bytes -= p.held();
            out(UserMessage {
                data: &p.data,
                frames: &p.frames,
            });
            return;
        }
        // Grown past the byte cap: the others make room, least recently added-to first
        // (this one was just added to; alone, it is bounded by the message cap).
        while self.pending_bytes > MAX_PENDING_BYTES
            && self.pending.len() > 1
            && self.evict_oldest(frame)
        {}
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

    fn feed(s: &mut Sctp, packets: &[(u8, u32, u16, &[u8])]) -> Vec<(Vec<u8>, Vec<u64>)> {
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let mut got = Vec::new();
        for (i, &(flags, tsn, sid, user)) in packets.iter().enumerate() {
            let mut p = chunk(flags, tsn, user);
            p[20..22].copy_from_slice(&sid.to_be_bytes());
            s.packet(&p, a, a, i as u64 + 1, &mut |m| {
                got.push((m.data.to_vec(), m.frames.to_vec()))
            });
        }
        got
    }

    #[test]
    fn a_missing_chunk_leaves_its_message_incomplete_and_counted() {
        let mut s = Sctp::new(16, 1 << 20);
        let got = feed(
            &mut s,
            &[
                // Frame 1-2: TSN 8 never comes.
                (0x02, 7, 1, b"hel"),
                (0x01, 9, 1, b"lo"),
                // Frame 3: the last chunk of a message whose first never came.
                (0x01, 30, 2, b"end"),
                // Frames 4-5: whole, on stream 3.
                (0x02, 40, 3, b"ab"),
                (0x01, 41, 3, b"cd"),
                // Frame 6: begun, never finished.
                (0x02, 50, 4, b"left"),
            ],
        );
        assert_eq!(got, vec![(b"abcd".to_vec(), vec![4, 5])]);
        assert_eq!(
            (s.stats.incomplete, s.stats.evicted, s.stats.too_large),
            (2, 0, 0)
        );
        s.finish();
        assert_eq!(s.stats.incomplete, 3);
        assert_eq!(s.stats.incomplete_frames, vec![1, 3, 6]);
        assert_eq!((s.pending.len(), s.pending_bytes), (0, 0));
    }

    #[test]
    fn past_the_table_cap_the_oldest_message_makes_room() {
        let mut s = Sctp::new(2, 1 << 20);
        let got = feed(
            &mut s,
            &[
                (0x02, 1, 1, b"a"),
                (0x02, 10, 2, b"b"),
                // Frame 3: a third message under reassembly: stream 1's goes.
                (0x02, 20, 3, b"c"),
                (0x01, 21, 3, b"C"),
                (0x01, 11, 2, b"B"),
                // Frame 6: stream 1's end finds nothing.
                (0x01, 2, 1, b"A"),
            ],
        );
        assert_eq!(
            got,
            vec![(b"cC".to_vec(), vec![3, 4]), (b"bB".to_vec(), vec![2, 5])]
        );
        assert_eq!(
            (s.stats.evicted, s.stats.evicted_frames.clone()),
            (1, vec![3])
        );
        assert_eq!(
            (s.stats.incomplete, s.stats.incomplete_frames.clone()),
            (1, vec![6])
        );
        assert_eq!(s.pending_bytes, 0);
    }

    #[test]
    fn a_message_over_the_cap_is_dropped_and_counted() {
        let mut s = Sctp::new(16, 4);
        let got = feed(
            &mut s,
            &[
                // Frames 1-2: 5 bytes in two chunks.
                (0x02, 1, 1, b"hel"),
                (0x01, 2, 1, b"lo"),
                // Frame 3: 5 bytes in one.
                (0x03, 3, 1, b"hello"),
                // Frame 4: 4 bytes, at the cap.
                (0x03, 4, 1, b"four"),
            ],
        );
        assert_eq!(got, vec![(b"four".to_vec(), vec![4])]);
        assert_eq!(s.stats.too_large, 2);
        assert_eq!(s.stats.too_large_frames, vec![2, 3]);
        assert_eq!((s.stats.incomplete, s.pending_bytes), (0, 0));
    }

    #[test]
    fn one_message_growing_past_the_byte_cap_makes_the_others_go() {
        let mut s = Sctp::new(16, 1 << 30);
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let mib = vec![b'x'; 1 << 20];
        let add = |s: &mut Sctp, flags: u8, tsn: u32, sid: u16, user: &[u8], frame: u64| {
            s.chunk(flags, tsn, (a, a, sid), user, frame, &mut |_| {});
        };
        add(&mut s, 0x02, 1, 1, b"older", 1);
        add(&mut s, 0x02, 99, 2, b"b", 2);
        for k in 0..15u32 {
            add(&mut s, 0x00, 100 + k, 2, &mib, 3 + u64::from(k));
        }
        // 15 MiB and a few bytes: under the cap with stream 1's message.
        assert_eq!(s.pending.len(), 2);
        add(&mut s, 0x00, 115, 2, &mib, 18);
        // Past it: stream 1's message goes; stream 2's, alone, is bounded by the
        // message cap.
        assert_eq!(s.pending.len(), 1);
        assert_eq!(
            (s.stats.evicted, s.stats.evicted_frames.clone()),
            (1, vec![18])
        );
        assert_eq!(s.pending_bytes, 1 + 16 * (1 << 20) + 17 * FRAME_BYTES);
    }

    #[test]
    fn chunks_without_user_data_are_ignored() {
        let mut s = Sctp::new(16, 1 << 20);
        let got = feed(
            &mut s,
            &[
                (0x02, 1, 1, b"a"),
                (0x00, 2, 1, b""),
                (0x00, 2, 1, b""),
                (0x01, 2, 1, b"b"),
            ],
        );
        assert_eq!(got, vec![(b"ab".to_vec(), vec![1, 4])]);
        assert_eq!(s.stats.incomplete, 0);
    }

    #[test]
    fn the_earliest_frames_are_listed() {
        let (mut n, mut frames) = (0, Vec::new());
        for f in (1..=30).rev() {
            note(&mut n, &mut frames, f);
        }
        assert_eq!(n, 30);
        assert_eq!(frames, (1..=10).collect::<Vec<u64>>());
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
