//! IPv4/IPv6 defragmentation with a time- and memory-bounded buffer.
//!
//! Fragments are collected with etherparse's [`IpDefragBuf`] (which caps one datagram at
//! 64 KiB and rejects conflicting ends); this module adds what etherparse's pool lacks for
//! untrusted input: a cap on datagrams under reassembly, on buffered bytes, and a timeout
//! in capture time. Datagrams evicted or never completed are counted and reported.

use std::collections::HashMap;
use std::net::IpAddr;

use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber};

use crate::capture::Timestamp;

/// At most this many datagrams under reassembly at once.
const MAX_PENDING: usize = 4096;
/// At most this many bytes buffered in all of them together.
const MAX_BYTES: usize = 32 << 20;
/// A datagram whose next fragment does not arrive within this many seconds is dropped
/// (Linux's ipfrag_time is 30 s).
const TIMEOUT_SECS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
}

struct Pending {
    buf: IpDefragBuf,
    frames: Vec<u64>,
    last: Timestamp,
}

/// A datagram rebuilt from its fragments.
pub(crate) struct Reassembled {
    pub payload: Vec<u8>,
    /// Every frame that carried a fragment, in arrival order; the last completed it.
    pub frames: Vec<u64>,
}

/// Counts of datagrams that could not be rebuilt.
#[derive(Debug, Default, Clone)]
pub(crate) struct DefragStats {
    /// Datagrams dropped incomplete (timeout, memory cap, end of capture).
    pub incomplete: u64,
    /// First frames of such datagrams, for evidence.
    pub incomplete_frames: Vec<u64>,
    /// Fragments that conflicted with what was buffered (overlap with other end, bad size).
    pub invalid: u64,
}

#[derive(Default)]
pub(crate) struct Defragmenter {
    active: HashMap<FragKey, Pending>,
    bytes: usize,
    pub stats: DefragStats,
    adds: u32,
}

impl Defragmenter {
    /// Adds one fragment; returns the whole datagram when this fragment completed it.
    pub fn add(
        &mut self,
        key: FragKey,
        offset: IpFragOffset,
        more: bool,
        payload: &[u8],
        frame: u64,
        time: Timestamp,
    ) -> Option<Reassembled> {
        self.adds = self.adds.wrapping_add(1);
        if self.adds.is_multiple_of(256) {
            self.expire(time);
        }
        if !self.active.contains_key(&key) {
            if self.active.len() >= MAX_PENDING || self.bytes >= MAX_BYTES {
                self.expire(time);
                self.evict_oldest();
            }
            self.active.insert(
                key,
                Pending {
                    buf: IpDefragBuf::new(IpNumber(key.proto), Vec::new(), Vec::new()),
                    frames: Vec::new(),
                    last: time,
                },
            );
        }
        let pending = self.active.get_mut(&key)?;
        let before = pending.buf.data().len();
        pending.frames.push(frame);
        pending.last = time;
        if pending.buf.add(offset, more, payload).is_err() {
            self.stats.invalid += 1;
            self.drop_pending(&key);
            return None;
        }
        self.bytes += pending.buf.data().len().saturating_sub(before);
        if pending.buf.is_complete() {
            let p = self.active.remove(&key)?;
            self.bytes = self.bytes.saturating_sub(p.buf.data().len());
            let (payload, _) = p.buf.take_bufs();
            return Some(Reassembled {
                payload,
                frames: p.frames,
            });
        }
        None
    }

    fn drop_pending(&mut self, key: &FragKey) {
        if let Some(p) = self.active.remove(key) {
            self.bytes = self.bytes.saturating_sub(p.buf.data().len());
            self.note_incomplete(&p.frames);
        }
    }

    fn note_incomplete(&mut self, frames: &[u64]) {
        self.stats.incomplete += 1;
        if self.stats.incomplete_frames.len() < 10
            && let Some(f) = frames.first()
        {
            self.stats.incomplete_frames.push(*f);
        }
    }

    fn expire(&mut self, now: Timestamp) {
        let stale: Vec<FragKey> = self
            .active
            .iter()
            .filter(|(_, p)| now.secs - p.last.secs > TIMEOUT_SECS)
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            self.drop_pending(&k);
        }
    }

    fn evict_oldest(&mut self) {
        while self.active.len() >= MAX_PENDING || self.bytes >= MAX_BYTES {
            let Some(oldest) = self
                .active
                .iter()
                .min_by_key(|(_, p)| p.last)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.drop_pending(&oldest);
        }
    }

    /// End of capture: whatever is still pending never completed.
    pub fn finish(&mut self) {
        let keys: Vec<FragKey> = self.active.keys().copied().collect();
        for k in keys {
            self.drop_pending(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key() -> FragKey {
        FragKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id: 7,
            proto: 17,
        }
    }

    fn off(bytes: u16) -> IpFragOffset {
        IpFragOffset::try_new(bytes / 8).unwrap()
    }

    #[test]
    fn rebuilds_out_of_order_fragments() {
        let mut d = Defragmenter::default();
        let t = Timestamp::default();
        assert!(d.add(key(), off(8), false, b"world!", 2, t).is_none());
        let r = d.add(key(), off(0), true, b"hello, ", 3, t);
        assert!(r.is_none(), "7 bytes is not a multiple of 8: invalid");
        assert_eq!(d.stats.invalid, 1);
        assert!(d.add(key(), off(8), false, b"world!", 4, t).is_none());
        let r = d.add(key(), off(0), true, b"hello, !", 5, t).unwrap();
        assert_eq!(r.payload, b"hello, !world!");
        assert_eq!(r.frames, vec![4, 5]);
    }

    #[test]
    fn never_completed_is_counted() {
        let mut d = Defragmenter::default();
        d.add(key(), off(0), true, &[0; 8], 9, Timestamp::default());
        d.finish();
        assert_eq!(d.stats.incomplete, 1);
        assert_eq!(d.stats.incomplete_frames, vec![9]);
    }

    #[test]
    fn times_out_in_capture_time() {
        let mut d = Defragmenter::default();
        d.add(key(), off(0), true, &[0; 8], 1, Timestamp::new(0, 0));
        for i in 0..300u32 {
            let mut k = key();
            k.id = 1000 + i;
            d.add(k, off(0), true, &[0; 8], 2, Timestamp::new(100, 0));
        }
        assert!(d.stats.incomplete >= 1);
        assert_eq!(d.stats.incomplete_frames[0], 1);
    }
}
