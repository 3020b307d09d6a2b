//! IPv4/IPv6 defragmentation with a time- and memory-bounded buffer.
//!
//! Fragments are collected with etherparse's [`IpDefragBuf`] (which caps one datagram at
//! 64 KiB and rejects conflicting ends); this module adds what etherparse's pool lacks for
//! untrusted input: a cap on datagrams under reassembly, on buffered bytes, and a timeout
//! in capture time. Datagrams evicted or never completed are counted and reported.
//!
//! Pending datagrams are kept in least-recently-added-to order ([`LruMap`]): the one to
//! evict at the cap and the ones past the timeout are found at the old end in constant
//! time, so a flood of fragments that never complete costs no more per packet than a
//! normal capture.

use std::net::IpAddr;

use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber};

use crate::capture::Timestamp;
use crate::lru::LruMap;

/// Bytes buffered per datagram under reassembly, on average, before the oldest is
/// dropped: the byte cap is this times the datagram cap (32 MiB by default).
const BYTES_PER_PENDING: usize = 8 << 10;
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
    /// Datagrams dropped incomplete (timeout, end of capture).
    pub incomplete: u64,
    /// First frames of such datagrams, for evidence.
    pub incomplete_frames: Vec<u64>,
    /// Fragments that conflicted with what was buffered (overlap with other end, bad size).
    pub invalid: u64,
    /// Datagrams dropped incomplete to make room (the cap of
    /// [`crate::limits::Limits::fragments`] or its byte cap), and the first frames that
    /// made room that way.
    pub evicted: u64,
    pub evicted_frames: Vec<u64>,
}

pub(crate) struct Defragmenter {
    /// Datagrams under reassembly, least recently added-to first out.
    active: LruMap<FragKey, Pending>,
    bytes: usize,
    max_pending: usize,
    max_bytes: usize,
    pub stats: DefragStats,
}

impl Default for Defragmenter {
    fn default() -> Self {
        Self::new(crate::limits::current().fragments)
    }
}

impl Defragmenter {
    /// A defragmenter with at most `max_pending` datagrams under reassembly.
    pub fn new(max_pending: usize) -> Self {
        let max_pending = max_pending.max(1);
        Defragmenter {
            active: LruMap::default(),
            bytes: 0,
            max_pending,
            max_bytes: max_pending.saturating_mul(BYTES_PER_PENDING),
            stats: DefragStats::default(),
        }
    }

    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

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
        self.expire(time);
        if !self.active.contains_key(&key) {
            self.evict_oldest(frame);
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

    /// Drops the datagrams whose last fragment is older than the timeout: they are at the
    /// old end of the order (capture time runs forward; a clock stepping back only delays
    /// an expiry).
    fn expire(&mut self, now: Timestamp) {
        while let Some((k, p)) = self.active.peek_oldest()
            && now.secs - p.last.secs > TIMEOUT_SECS
        {
            let k = *k;
            self.drop_pending(&k);
        }
    }

    /// Makes room for one more datagram: drops the least recently added-to while at a cap.
    fn evict_oldest(&mut self, frame: u64) {
        while self.active.len() >= self.max_pending || self.bytes >= self.max_bytes {
            let Some((_, p)) = self.active.pop_oldest() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(p.buf.data().len());
            self.stats.evicted += 1;
            if self.stats.evicted_frames.len() < 10 {
                self.stats.evicted_frames.push(frame);
            }
        }
    }

    fn active_first_frame(&self, k: &FragKey) -> u64 {
        self.active
            .get(k)
            .and_then(|p| p.frames.first().copied())
            .unwrap_or(0)
    }

    /// End of capture: whatever is still pending never completed.
    pub fn finish(&mut self) {
        let mut keys: Vec<FragKey> = self.active.keys().copied().collect();
        // In order of first frame, so that the evidence is the same from run to run.
        keys.sort_by_key(|k| self.active_first_frame(k));
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

    #[test]
    fn full_table_drops_the_least_recently_added_to() {
        let mut d = Defragmenter::new(2);
        let t = Timestamp::default();
        let k = |id| FragKey { id, ..key() };
        d.add(k(1), off(0), true, &[1; 8], 1, t);
        d.add(k(2), off(0), true, &[2; 8], 2, t);
        // Datagram 1 gets its next fragment: 2 is now the least recently added-to.
        d.add(k(1), off(8), true, &[1; 8], 3, t);
        d.add(k(3), off(0), true, &[3; 8], 4, t);
        assert_eq!(d.stats.evicted, 1);
        assert_eq!(d.stats.evicted_frames, vec![4]);
        // Datagram 1 survived whole and completes.
        let r = d.add(k(1), off(16), false, b"end", 5, t).unwrap();
        assert_eq!(r.payload, [&[1u8; 16][..], b"end"].concat());
        assert_eq!(r.frames, vec![1, 3, 5]);
        d.finish();
        assert_eq!(
            d.stats.incomplete, 1,
            "datagram 3, at the end of the capture"
        );
        assert_eq!(d.stats.incomplete_frames, vec![4]);
    }

    #[test]
    fn flood_of_first_fragments_stays_at_the_cap_in_constant_time() {
        // 300 000 first fragments that never complete, through a table of 64: each one
        // evicts the oldest with `LruMap::pop_oldest`, no scan.
        let mut d = Defragmenter::new(64);
        let t = Timestamp::new(5, 0);
        for i in 0..300_000u32 {
            let k = FragKey { id: i, ..key() };
            d.add(k, off(0), true, &[0; 8], u64::from(i) + 1, t);
            assert!(d.active.len() <= 64);
        }
        assert_eq!(d.stats.evicted, 300_000 - 64);
        assert_eq!(d.stats.evicted_frames[0], 65);
        assert_eq!(d.stats.incomplete, 0);
    }

    #[test]
    fn byte_cap_evicts_too() {
        let mut d = Defragmenter::new(1);
        let t = Timestamp::default();
        let big = vec![0u8; BYTES_PER_PENDING];
        d.add(key(), off(0), true, &big, 1, t);
        d.add(FragKey { id: 8, ..key() }, off(0), true, &[0; 8], 2, t);
        assert_eq!(d.stats.evicted, 1);
        assert!(d.bytes <= BYTES_PER_PENDING);
    }
}
