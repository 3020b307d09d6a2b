//! The flow table of the media tracker: UDP flows by (source, destination), kept in
//! least-recently-active order so that at the cap the flow idle the longest is forgotten.
//!
//! Stage: media. Input: the addresses of each datagram and the announcements made so far.
//! Output: a flow's slot in `MediaTracker::flows`, its announcements looked up again after
//! new SDP; [`crate::media::FlowLimit`] when flows were forgotten.

use foldhash::HashMap;
use std::net::SocketAddr;

use super::MediaTracker;
use crate::capture::Timestamp;
use crate::media::{Announced, FlowLimit, STUN_PORT};
use crate::net::Datagram;

/// A UDP flow (source, destination) as a hash key. IPv4 pairs, the bulk of any
/// capture, are packed into one 128-bit word and kept in a table of their own with small
/// entries (this lookup runs for every RTP packet, and a table of large keys misses the
/// cache on many flows); other pairs are kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum FlowKey {
    V4(u128),
    Other(SocketAddr, SocketAddr),
}

impl FlowKey {
    pub(super) fn new(src: SocketAddr, dst: SocketAddr) -> Self {
        match (src, dst) {
            (SocketAddr::V4(a), SocketAddr::V4(b)) => FlowKey::V4(
                (u128::from(a.ip().to_bits()) << 80)
                    | (u128::from(a.port()) << 64)
                    | (u128::from(b.ip().to_bits()) << 16)
                    | u128::from(b.port()),
            ),
            (a, b) => FlowKey::Other(a, b),
        }
    }
}

/// The flows held, by address: (address, slot) pairs, found by address (each flow under
/// its source and its destination). IPv4 pairs, packed into one word (address, port,
/// slot), are compared as integers and take 16 bytes in the tree instead of 36: a flood of
/// new flows inserts and removes two pairs per datagram.
#[derive(Debug, Default)]
pub(super) struct FlowsAt {
    v4: std::collections::BTreeSet<u128>,
    other: std::collections::BTreeSet<(SocketAddr, u32)>,
}

impl FlowsAt {
    fn packed(a: std::net::SocketAddrV4, slot: u32) -> u128 {
        (u128::from(a.ip().to_bits()) << 48) | (u128::from(a.port()) << 32) | u128::from(slot)
    }

    pub(super) fn insert(&mut self, a: SocketAddr, slot: u32) {
        match a {
            SocketAddr::V4(v4) => self.v4.insert(Self::packed(v4, slot)),
            a => self.other.insert((a, slot)),
        };
    }

    pub(super) fn remove(&mut self, a: SocketAddr, slot: u32) {
        match a {
            SocketAddr::V4(v4) => self.v4.remove(&Self::packed(v4, slot)),
            a => self.other.remove(&(a, slot)),
        };
    }

    /// Adds to `out` the slots of the flows at `a`.
    pub(super) fn slots_at(&self, a: SocketAddr, out: &mut Vec<u32>) {
        match a {
            SocketAddr::V4(v4) => out.extend(
                (self
                    .v4
                    .range(Self::packed(v4, 0)..=Self::packed(v4, u32::MAX)))
                .map(|&k| k as u32),
            ),
            a => out.extend((self.other.range((a, 0)..=(a, u32::MAX))).map(|&(_, s)| s)),
        }
    }
}

/// Flow positions by [`FlowKey`].
#[derive(Debug, Default)]
pub(super) struct FlowIndex {
    v4: HashMap<u128, u32>,
    other: HashMap<(SocketAddr, SocketAddr), u32>,
}

impl FlowIndex {
    fn get(&self, key: FlowKey) -> Option<u32> {
        match key {
            FlowKey::V4(k) => self.v4.get(&k).copied(),
            FlowKey::Other(a, b) => self.other.get(&(a, b)).copied(),
        }
    }

    fn insert(&mut self, key: FlowKey, at: u32) {
        match key {
            FlowKey::V4(k) => self.v4.insert(k, at),
            FlowKey::Other(a, b) => self.other.insert((a, b), at),
        };
    }

    pub(super) fn remove(&mut self, key: FlowKey) {
        match key {
            FlowKey::V4(k) => self.v4.remove(&k),
            FlowKey::Other(a, b) => self.other.remove(&(a, b)),
        };
    }
}

#[derive(Debug)]
pub(super) struct FlowState {
    pub(super) src: SocketAddr,
    pub(super) dst: SocketAddr,
    /// `announce_gen` when `dst_ann`/`src_ann` were looked up.
    pub(super) ann_gen: u32,
    pub(super) dst_ann: Option<u32>,
    pub(super) src_ann: Option<u32>,
    /// STUN was seen between these two addresses.
    pub(super) stun: bool,
    /// Indexes into `MediaTracker::streams`.
    pub(super) streams: Vec<u32>,
    /// The stream of the flow's last RTP packet (`u32::MAX`: none yet).
    pub(super) last_stream: u32,
    /// Packets with an RTP header, and how often the SSRC differed from the previous one's.
    pub(super) rtp_like: u64,
    pub(super) ssrc_switches: u64,
    /// Datagrams counted for `dst_ann` (received) and `src_ann` (sent) and not yet added
    /// to them: kept here, where every packet looks anyway, and added when the
    /// announcement changes or the scan ends.
    pub(super) rx: u64,
    pub(super) tx: u64,
    /// The capture second of the flow's last datagram.
    pub(super) last_secs: i64,
    /// The SSRC of the last stream not followed for a table limit: its further packets
    /// are not counted as more streams left out.
    pub(super) untracked_ssrc: Option<u32>,
    /// Retired ([`super::retire`]): the slot waits to be reused.
    pub(super) retired: bool,
    /// Found by its addresses when retiring ([`MediaTracker::index_flow`]): once it has
    /// referred to an announcement (a flow that never did is of no call that ends).
    pub(super) indexed: bool,
    /// Quiet, of a call in progress: in `MediaTracker::parked`, not in its `flow_order`.
    pub(super) parked: bool,
}

/// A flow silent this long (capture seconds) has ended: forgotten at the cap, it takes
/// nothing from its call's judgement (its counts and streams stay; RTP flows every 20 ms,
/// comfort noise at least every few seconds). One forgotten sooner may have gone on:
/// its calls' media is then not judged.
pub(super) const QUIET_SECS: i64 = 60;

impl FlowState {
    /// Adds the pending counts to the announcements they were counted for.
    pub(super) fn settle(&mut self, announced: &mut [Announced]) {
        if let Some(a) = self.dst_ann {
            announced[a as usize].received += std::mem::take(&mut self.rx);
        }
        if let Some(a) = self.src_ann {
            announced[a as usize].sent += std::mem::take(&mut self.tx);
        }
    }
}

impl MediaTracker {
    /// The flow of `src → dst` (seen in `frame`), created when new; at the cap, in the
    /// place of the flow idle the longest.
    pub(super) fn flow(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: Timestamp,
    ) -> Option<usize> {
        let key = FlowKey::new(src, dst);
        if let Some(i) = self.flow_index.get(key) {
            let f = &mut self.flows[i as usize];
            f.last_secs = time.secs;
            if std::mem::take(&mut f.parked) {
                self.parked.remove(i);
                self.flow_order.push(i);
            } else {
                self.flow_order.touch(i);
            }
            return Some(i as usize);
        }
        let new = FlowState {
            src,
            dst,
            ann_gen: self.announce_gen.wrapping_sub(1),
            dst_ann: None,
            src_ann: None,
            stun: false,
            streams: Vec::new(),
            last_stream: u32::MAX,
            rtp_like: 0,
            ssrc_switches: 0,
            rx: 0,
            tx: 0,
            last_secs: time.secs,
            untracked_ssrc: None,
            retired: false,
            indexed: false,
            parked: false,
        };
        let reuse = self.retire.as_mut().and_then(|r| r.free_flows.pop());
        let i = if let Some(i) = reuse {
            let i = i as usize;
            self.flows[i] = new;
            i
        } else if self.flows.len() >= self.limits.media_flows {
            let i = self.forget_oldest_flow(frame, time.secs)?;
            self.flows[i] = new;
            i
        } else {
            self.flows.push(new);
            self.flows.len() - 1
        };
        self.flow_index.insert(key, i as u32);
        self.flow_order.push(i as u32);
        Some(i)
    }

    /// Forgets the flow idle the longest, for a new one seen in `frame` at capture second
    /// `now`: its counts go to its announcements, its confirmed streams stay (with the
    /// flow's counts), its unconfirmed ones free their places, and its calls are marked
    /// as not judged unless it had been quiet [`QUIET_SECS`]. Returns the freed slot.
    pub(super) fn forget_oldest_flow(&mut self, frame: u64, now: i64) -> Option<usize> {
        let slot = (self.flow_order.oldest()).or_else(|| self.parked.oldest())?;
        self.flow_order.remove(slot);
        self.parked.remove(slot);
        self.unindex_flow(slot);
        let i = slot as usize;
        let f = &mut self.flows[i];
        // A flow parked is of a call in progress: counted as active.
        let parked = std::mem::take(&mut f.parked);
        f.settle(&mut self.report.announced);
        self.flow_index.remove(FlowKey::new(f.src, f.dst));
        let counts = (f.rtp_like, f.ssrc_switches);
        let limit = self.report.flow_limit.get_or_insert_with(|| FlowLimit {
            limit: self.limits.media_flows,
            ..FlowLimit::default()
        });
        limit.evicted += 1;
        if limit.frames.len() < 10 {
            limit.frames.push(frame);
        }
        let ended = !parked && now.saturating_sub(f.last_secs) >= QUIET_SECS;
        for a in [f.dst_ann, f.src_ann]
            .into_iter()
            .flatten()
            .filter(|_| !ended)
        {
            let call = &self.report.announced[a as usize].call_id;
            if !limit.calls.contains(&**call) {
                limit.calls.insert(call.to_string());
            }
        }
        for si in std::mem::take(&mut f.streams) {
            self.streams[si as usize].detach(counts);
            self.stream_ended(si);
        }
        Some(i)
    }

    /// Looks the flow's addresses up among the announced ones after new SDP arrived.
    pub(super) fn refresh(&mut self, fi: usize) {
        let f = &mut self.flows[fi];
        if f.ann_gen != self.announce_gen {
            f.ann_gen = self.announce_gen;
            let dst = self.announced_index.get(&f.dst).copied();
            let src = self.announced_index.get(&f.src).copied();
            if (dst, src) != (f.dst_ann, f.src_ann) {
                f.settle(&mut self.report.announced);
                f.dst_ann = dst;
                f.src_ann = src;
                for i in [dst, src].into_iter().flatten() {
                    self.by_call.looked_up(i);
                }
                if dst.is_some() || src.is_some() {
                    self.index_flow(fi as u32);
                    self.flow_announcements_changed(fi as u32);
                }
            }
        }
    }

    pub(super) fn is_media_flow(&self, fi: Option<usize>, d: &Datagram<'_>) -> bool {
        fi.is_some_and(|i| {
            let f = &self.flows[i];
            f.stun || f.dst_ann.is_some() || f.src_ann.is_some()
        }) || self.settings.is_media_port(d.src.port())
            || self.settings.is_media_port(d.dst.port())
            || [d.src.port(), d.dst.port()].contains(&STUN_PORT)
    }
}

#[cfg(test)]
mod tests {
    use super::FlowsAt;
    use std::net::SocketAddr;

    #[test]
    fn flows_are_found_by_each_address_until_removed() {
        let a: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:4002".parse().unwrap();
        let c: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
        let mut at = FlowsAt::default();
        for (addr, slot) in [(a, 7), (b, 8), (a, u32::MAX), (c, 9), (c, 0)] {
            at.insert(addr, slot);
        }
        let slots = |at: &FlowsAt, addr| {
            let mut v = Vec::new();
            at.slots_at(addr, &mut v);
            v.sort_unstable();
            v
        };
        assert_eq!(slots(&at, a), [7, u32::MAX]);
        assert_eq!(slots(&at, b), [8]);
        assert_eq!(slots(&at, c), [0, 9]);
        at.remove(a, 7);
        at.remove(c, 0);
        assert_eq!(slots(&at, a), [u32::MAX]);
        assert_eq!(slots(&at, c), [9]);
        assert!(slots(&at, "10.0.0.2:4000".parse().unwrap()).is_empty());
    }
}
