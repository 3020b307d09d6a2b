//! TCP reassembly: per direction of a connection, segments in → ordered bytes out.
//!
//! Out-of-order segments wait (bounded) until the hole before them is filled;
//! retransmissions and the overlapping part of a segment are delivered once; a hole that
//! never fills (lost segment, capture drop) becomes a [`Gap`](StreamEvent::Gap) naming the
//! frames around it, after which delivery resumes. Everything is keyed by capture data
//! only: no timers, no allocation beyond the bounded out-of-order queue.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::capture::Timestamp;
use crate::lru::LruMap;

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flow {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Addresses and ports as integers, two or four words instead of `SocketAddr`'s
/// field-by-field hashing (flows are looked up several times per packet). Equal flows
/// hash equally: IPv6 flow info and scope are left out, which `Eq` compares.
impl std::hash::Hash for Flow {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        fn word(a: &SocketAddr) -> u128 {
            match a {
                SocketAddr::V4(v) => u128::from(v.ip().to_bits()) << 16 | u128::from(v.port()),
                SocketAddr::V6(v) => v.ip().to_bits() ^ u128::from(v.port()).rotate_right(16) ^ 1,
            }
        }
        match (self.src, self.dst) {
            (SocketAddr::V4(_), SocketAddr::V4(_)) => {
                h.write_u64(word(&self.src) as u64);
                h.write_u64(word(&self.dst) as u64);
            }
            _ => {
                h.write_u128(word(&self.src));
                h.write_u128(word(&self.dst));
            }
        }
    }
}

/// Bytes queued out of order per direction before the hole is declared a gap.
const MAX_QUEUED_BYTES: usize = 1 << 20;
/// Segments queued out of order per direction before the hole is declared a gap.
const MAX_QUEUED_SEGMENTS: usize = 512;
/// Bytes queued out of order in all directions together; beyond it, the hole of the
/// direction that needs more is given up.
const MAX_TOTAL_QUEUED: usize = 64 << 20;

/// What reassembly hands to the next stage, in stream order.
///
/// Every event names its direction twice: by its `flow` and by `dir`, the direction's
/// number among those open at once (its slot in the reassembler's table, below twice the
/// connection cap: two directions a connection). A number is given to one open direction at a time and to
/// another only after its `End`: a next stage can keep a direction's state in a vector
/// by that number instead of hashing the flow of every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next bytes of the stream. `frame` is the arrival that made them contiguous
    /// (Wireshark attributes a reassembled PDU to it); `origin` is the frame that carried
    /// them (earlier when they waited out of order).
    Data {
        flow: Flow,
        dir: u32,
        frame: u64,
        origin: u64,
        time: Timestamp,
        data: &'a [u8],
    },
    /// Bytes `missing` were never seen between `frame_before` and `frame_after`.
    Gap {
        flow: Flow,
        dir: u32,
        frame_before: u64,
        frame_after: u64,
        missing: u64,
    },
    /// The direction was closed (FIN/RST), restarted (new SYN) or dropped. `evicted`:
    /// dropped while open because the connection table was full (see
    /// [`crate::limits::Limits::tcp_connections`]).
    End {
        flow: Flow,
        dir: u32,
        frame: u64,
        evicted: bool,
    },
}

impl<'a> StreamEvent<'a> {
    /// The event with its frame numbers moved on by `offset` (files read one after the
    /// other, numbered through).
    pub fn renumbered(&self, offset: u64) -> StreamEvent<'a> {
        let mut e = *self;
        match &mut e {
            StreamEvent::Data { frame, origin, .. } => {
                *frame += offset;
                *origin += offset;
            }
            StreamEvent::Gap {
                frame_before,
                frame_after,
                ..
            } => {
                *frame_before += offset;
                *frame_after += offset;
            }
            StreamEvent::End { frame, .. } => *frame += offset,
        }
        e
    }

    /// The event without its bytes (`Data` keeps an empty slice), and the bytes: for
    /// holding the bytes elsewhere and joining them again with [`StreamEvent::with_data`].
    pub fn detach(&self) -> (StreamEvent<'static>, &'a [u8]) {
        match *self {
            StreamEvent::Data {
                flow,
                dir,
                frame,
                origin,
                time,
                data,
            } => (
                StreamEvent::Data {
                    flow,
                    dir,
                    frame,
                    origin,
                    time,
                    data: &[],
                },
                data,
            ),
            StreamEvent::Gap {
                flow,
                dir,
                frame_before,
                frame_after,
                missing,
            } => (
                StreamEvent::Gap {
                    flow,
                    dir,
                    frame_before,
                    frame_after,
                    missing,
                },
                &[],
            ),
            StreamEvent::End {
                flow,
                dir,
                frame,
                evicted,
            } => (
                StreamEvent::End {
                    flow,
                    dir,
                    frame,
                    evicted,
                },
                &[],
            ),
        }
    }
}

impl StreamEvent<'static> {
    /// A detached event with `data` as the bytes of `Data` (other events have none).
    pub fn with_data(self, data: &[u8]) -> StreamEvent<'_> {
        match self {
            StreamEvent::Data {
                flow,
                dir,
                frame,
                origin,
                time,
                ..
            } => StreamEvent::Data {
                flow,
                dir,
                frame,
                origin,
                time,
                data,
            },
            other => other,
        }
    }
}

struct Queued {
    data: Vec<u8>,
    frame: u64,
    time: Timestamp,
}

struct Direction {
    next_seq: Option<u32>,
    queue: BTreeMap<u64, Queued>,
    queued_bytes: usize,
    /// Relative position 0 corresponds to this sequence number.
    base: u32,
    last_frame: u64,
}

impl Direction {
    fn rel(&self, seq: u32) -> u64 {
        u64::from(seq.wrapping_sub(self.base))
    }
}

/// Counters for the report.
#[derive(Debug, Default, Clone)]
pub struct TcpStats {
    pub segments: u64,
    pub retransmissions: u64,
    pub out_of_order: u64,
    pub gaps: u64,
    pub gap_frames: Vec<u64>,
    /// Open directions closed because the table was full, and the first frames that
    /// made room that way.
    pub evicted: u64,
    pub evicted_frames: Vec<u64>,
}

pub struct Reassembler {
    /// Open directions, least recently active first out.
    dirs: LruMap<Flow, Direction>,
    /// Directions tracked at once (two per connection).
    max_dirs: usize,
    /// Sum of `queued_bytes` over all directions.
    queued_total: usize,
    pub stats: TcpStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(crate::limits::current().tcp_connections)
    }
}

/// One TCP segment as seen on the wire.
pub struct Segment<'a> {
    pub flow: Flow,
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    pub frame: u64,
    pub time: Timestamp,
}

impl Reassembler {
    /// A reassembler following at most `connections` connections at once.
    pub fn new(connections: usize) -> Self {
        Reassembler {
            dirs: LruMap::default(),
            max_dirs: connections.saturating_mul(2).max(1),
            queued_total: 0,
            stats: TcpStats::default(),
        }
    }

    /// The connection cap.
    pub fn max_connections(&self) -> usize {
        self.max_dirs / 2
    }

    /// Feeds one segment; `out` receives the events it causes, in order.
    pub fn push(&mut self, seg: Segment<'_>, out: &mut dyn FnMut(StreamEvent<'_>)) {
        self.stats.segments += 1;
        let flow = seg.flow;
        // A SYN starts the direction afresh: the old one (if any) is closed.
        if seg.syn
            && let Some((slot, old)) = self.dirs.remove_slot(&flow)
        {
            self.queued_total -= old.queued_bytes;
            self.flush((flow, slot), old, seg.frame, false, out);
        }
        // One lookup for a known direction, two for a new one (a flood's every packet).
        let known = if seg.syn {
            None
        } else {
            self.dirs.touch(&flow)
        };
        let slot = match known {
            Some(slot) => slot,
            None => {
                if self.dirs.len() >= self.max_dirs {
                    self.evict_lru(seg.frame, out);
                }
                let start = if seg.syn {
                    seg.seq.wrapping_add(1)
                } else {
                    seg.seq
                };
                let dir = Direction {
                    next_seq: (seg.syn || !seg.payload.is_empty()).then_some(start),
                    queue: BTreeMap::new(),
                    queued_bytes: 0,
                    base: start,
                    last_frame: seg.frame,
                };
                self.dirs.insert_absent(flow, dir)
            }
        };
        let Some(dir) = self.dirs.at_mut(slot) else {
            return;
        };
        let queued_before = dir.queued_bytes;
        let data_seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        if dir.next_seq.is_none() && !seg.payload.is_empty() {
            dir.next_seq = Some(data_seq);
            dir.base = data_seq;
        }
        if !seg.payload.is_empty() {
            let Some(next) = dir.next_seq else { return };
            let diff = data_seq.wrapping_sub(next) as i32;
            if diff <= 0 {
                let skip = diff.unsigned_abs() as usize;
                if skip >= seg.payload.len() {
                    self.stats.retransmissions += 1;
                } else {
                    if skip > 0 {
                        self.stats.retransmissions += 1;
                    }
                    let data = &seg.payload[skip..];
                    dir.next_seq = Some(next.wrapping_add(data.len() as u32));
                    dir.last_frame = seg.frame;
                    out(StreamEvent::Data {
                        flow,
                        dir: slot,
                        frame: seg.frame,
                        origin: seg.frame,
                        time: seg.time,
                        data,
                    });
                    let at = (seg.frame, seg.time);
                    Self::drain(dir, (flow, slot), at, &mut self.stats, out);
                }
            } else {
                self.stats.out_of_order += 1;
                let key = dir.rel(data_seq);
                if !dir.queue.contains_key(&key) {
                    dir.queued_bytes += seg.payload.len();
                    dir.queue.insert(
                        key,
                        Queued {
                            data: seg.payload.to_vec(),
                            frame: seg.frame,
                            time: seg.time,
                        },
                    );
                } else {
                    self.stats.retransmissions += 1;
                }
                let total = self.queued_total + dir.queued_bytes - queued_before;
                if dir.queued_bytes > MAX_QUEUED_BYTES
                    || dir.queue.len() > MAX_QUEUED_SEGMENTS
                    || total > MAX_TOTAL_QUEUED
                {
                    Self::skip_gap(dir, (flow, slot), &mut self.stats, out);
                }
            }
        }
        self.queued_total = self.queued_total + dir.queued_bytes - queued_before;
        if (seg.fin || seg.rst)
            && let Some((slot, dir)) = self.dirs.remove_slot(&flow)
        {
            self.queued_total -= dir.queued_bytes;
            self.flush((flow, slot), dir, seg.frame, false, out);
        }
    }

    /// Delivers queued segments that have become contiguous.
    fn drain(
        dir: &mut Direction,
        (flow, slot): (Flow, u32),
        (now, now_time): (u64, Timestamp),
        stats: &mut TcpStats,
        out: &mut dyn FnMut(StreamEvent<'_>),
    ) {
        while let Some(next) = dir.next_seq {
            let pos = dir.rel(next);
            let Some((&key, _)) = dir.queue.iter().next() else {
                return;
            };
            if key > pos {
                return;
            }
            let Some(q) = dir.queue.remove(&key) else {
                return;
            };
            dir.queued_bytes -= q.data.len();
            let skip = (pos - key) as usize;
            if skip >= q.data.len() {
                stats.retransmissions += 1;
                continue;
            }
            let data = &q.data[skip..];
            dir.next_seq = Some(next.wrapping_add(data.len() as u32));
            dir.last_frame = q.frame;
            out(StreamEvent::Data {
                flow,
                dir: slot,
                frame: now.max(q.frame),
                origin: q.frame,
                time: now_time.max(q.time),
                data,
            });
        }
    }

    /// Gives up on the hole before the first queued segment.
    fn skip_gap(
        dir: &mut Direction,
        (flow, slot): (Flow, u32),
        stats: &mut TcpStats,
        out: &mut dyn FnMut(StreamEvent<'_>),
    ) {
        let (Some(next), Some((&key, q))) = (dir.next_seq, dir.queue.iter().next()) else {
            return;
        };
        let pos = dir.rel(next);
        let missing = key.saturating_sub(pos);
        stats.gaps += 1;
        if stats.gap_frames.len() < 10 {
            stats.gap_frames.push(q.frame);
        }
        out(StreamEvent::Gap {
            flow,
            dir: slot,
            frame_before: dir.last_frame,
            frame_after: q.frame,
            missing,
        });
        dir.next_seq = Some(next.wrapping_add(missing as u32));
        let at = (q.frame, q.time);
        Self::drain(dir, (flow, slot), at, stats, out);
    }

    fn flush(
        &mut self,
        (flow, slot): (Flow, u32),
        mut dir: Direction,
        frame: u64,
        evicted: bool,
        out: &mut dyn FnMut(StreamEvent<'_>),
    ) {
        while !dir.queue.is_empty() {
            Self::skip_gap(&mut dir, (flow, slot), &mut self.stats, out);
        }
        out(StreamEvent::End {
            flow,
            dir: slot,
            frame,
            evicted,
        });
    }

    /// Closes the least recently active direction to make room (constant time).
    fn evict_lru(&mut self, frame: u64, out: &mut dyn FnMut(StreamEvent<'_>)) {
        let Some((slot, flow, dir)) = self.dirs.pop_oldest_slot() else {
            return;
        };
        self.stats.evicted += 1;
        if self.stats.evicted_frames.len() < 10 {
            self.stats.evicted_frames.push(frame);
        }
        self.queued_total -= dir.queued_bytes;
        self.flush((flow, slot), dir, frame, true, out);
    }

    /// End of capture: close every direction, reporting holes that never filled.
    pub fn finish(&mut self, frame: u64, out: &mut dyn FnMut(StreamEvent<'_>)) {
        let mut flows: Vec<Flow> = self.dirs.keys().copied().collect();
        flows.sort();
        for flow in flows {
            if let Some((slot, dir)) = self.dirs.remove_slot(&flow) {
                self.queued_total -= dir.queued_bytes;
                self.flush((flow, slot), dir, frame, false, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        Flow {
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
        }
    }

    #[test]
    fn flows_hash_by_addresses_and_ports() {
        use std::hash::BuildHasher;
        let h = foldhash::fast::FixedState::with_seed(7);
        let f = |src: &str, dst: &str| Flow {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
        };
        // Equal flows hash equally (what a hash table needs) ...
        assert_eq!(
            h.hash_one(f("10.0.0.1:5060", "10.0.0.2:5060")),
            h.hash_one(flow())
        );
        assert_eq!(
            h.hash_one(f("[2001:db8::1]:5060", "[2001:db8::2]:5061")),
            h.hash_one(f("[2001:db8::1]:5060", "[2001:db8::2]:5061"))
        );
        // ... and the flows of a flood (every address and port, both directions, both
        // families) hardly ever share a hash.
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for i in 0..64u32 {
            for port in 1024..1088u16 {
                let a = std::net::Ipv4Addr::from_bits(0x0a03_0000 + i);
                let v4 = SocketAddr::from((a, port));
                let v6 = SocketAddr::from((a.to_ipv6_mapped(), port));
                let server: SocketAddr = "10.0.0.2:5060".parse().unwrap();
                for fl in [
                    Flow {
                        src: v4,
                        dst: server,
                    },
                    Flow {
                        src: server,
                        dst: v4,
                    },
                    Flow {
                        src: v6,
                        dst: server,
                    },
                ] {
                    seen.insert(h.hash_one(fl));
                    n += 1;
                }
            }
        }
        assert!(
            seen.len() >= n - 2,
            "{} distinct hashes of {n} flows",
            seen.len()
        );
    }

    /// Feeds (seq, payload, flags) and returns the delivered (frame, bytes) plus gaps.
    type Delivered = Vec<(u64, Vec<u8>)>;
    type Gaps = Vec<(u64, u64, u64)>;

    fn run(segs: &[(u32, &[u8], &str)]) -> (Delivered, Gaps, TcpStats) {
        let mut r = Reassembler::default();
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        let mut sink = |e: StreamEvent<'_>| match e {
            StreamEvent::Data { frame, data: d, .. } => data.push((frame, d.to_vec())),
            StreamEvent::Gap {
                frame_before,
                frame_after,
                missing,
                ..
            } => gaps.push((frame_before, frame_after, missing)),
            StreamEvent::End { .. } => {}
        };
        for (i, (seq, payload, flags)) in segs.iter().enumerate() {
            r.push(
                Segment {
                    flow: flow(),
                    seq: *seq,
                    syn: flags.contains('S'),
                    fin: flags.contains('F'),
                    rst: flags.contains('R'),
                    payload,
                    frame: i as u64 + 1,
                    time: Timestamp::default(),
                },
                &mut sink,
            );
        }
        r.finish(99, &mut sink);
        (data, gaps, r.stats)
    }

    fn joined(d: &[(u64, Vec<u8>)]) -> Vec<u8> {
        d.iter().flat_map(|(_, b)| b.clone()).collect()
    }

    #[test]
    fn in_order() {
        let (d, g, _) = run(&[(99, b"", "S"), (100, b"abc", ""), (103, b"def", "")]);
        assert_eq!(joined(&d), b"abcdef");
        assert_eq!(d[1].0, 3);
        assert!(g.is_empty());
    }

    #[test]
    fn out_of_order_is_reordered() {
        let (d, g, s) = run(&[(99, b"", "S"), (103, b"def", ""), (100, b"abc", "")]);
        assert_eq!(joined(&d), b"abcdef");
        assert_eq!(d[0].0, 3);
        assert_eq!(
            d[1].0, 3,
            "queued bytes are delivered by the frame that filled the hole"
        );
        assert!(g.is_empty());
        assert_eq!(s.out_of_order, 1);
    }

    #[test]
    fn retransmission_delivered_once() {
        let (d, _, s) = run(&[(100, b"abc", ""), (100, b"abc", ""), (103, b"de", "")]);
        assert_eq!(joined(&d), b"abcde");
        assert_eq!(s.retransmissions, 1);
    }

    #[test]
    fn overlap_trimmed() {
        let (d, _, _) = run(&[(100, b"abcd", ""), (102, b"cdefg", "")]);
        assert_eq!(joined(&d), b"abcdefg");
        let (d, _, _) = run(&[(100, b"ab", ""), (104, b"ef", ""), (101, b"bcdefg", "")]);
        assert_eq!(joined(&d), b"abcdefg");
    }

    #[test]
    fn gap_reported_at_end_with_frames() {
        let (d, g, s) = run(&[(100, b"abc", ""), (110, b"xyz", "")]);
        assert_eq!(joined(&d), b"abcxyz");
        assert_eq!(g, vec![(1, 2, 7)]);
        assert_eq!(s.gaps, 1);
    }

    #[test]
    fn gap_declared_when_queue_overflows() {
        let big = vec![b'x'; 4096];
        let mut segs: Vec<(u32, &[u8], &str)> = vec![(0, b"a", "")];
        for i in 0..600u32 {
            segs.push((10 + i * 4096, &big, ""));
        }
        let (d, g, _) = run(&segs);
        assert!(!g.is_empty());
        assert!(d.len() > 500, "delivery resumed after the gap");
    }

    #[test]
    fn many_directions_cannot_queue_without_bound() {
        let mut r = Reassembler::default();
        let big = vec![b'x'; 60_000];
        let mut gaps = 0;
        for i in 0..2_000u32 {
            let flow = Flow {
                src: SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 5060)),
                dst: "10.9.9.9:5060".parse().unwrap(),
            };
            for (k, seq) in [0u32, 100_000].into_iter().enumerate() {
                r.push(
                    Segment {
                        flow,
                        seq,
                        syn: false,
                        fin: false,
                        rst: false,
                        payload: if k == 0 { b"a" } else { &big },
                        frame: u64::from(i) * 2 + k as u64,
                        time: Timestamp::default(),
                    },
                    &mut |e| {
                        if matches!(e, StreamEvent::Gap { .. }) {
                            gaps += 1
                        }
                    },
                );
            }
            assert!(r.queued_total <= MAX_TOTAL_QUEUED, "{}", r.queued_total);
        }
        assert!(gaps > 0, "holes were given up to stay under the cap");
    }

    #[test]
    fn sequence_wraps() {
        let (d, _, _) = run(&[(u32::MAX - 1, b"ab", ""), (0, b"cd", "")]);
        assert_eq!(joined(&d), b"abcd");
    }

    #[test]
    fn fin_flushes_queue() {
        let (d, g, _) = run(&[(100, b"ab", ""), (104, b"ef", "F")]);
        assert_eq!(joined(&d), b"abef");
        assert_eq!(g.len(), 1);
    }
    fn seg(port: u16, seq: u32, payload: &[u8], frame: u64) -> Segment<'_> {
        Segment {
            flow: Flow {
                src: SocketAddr::from(([10, 0, 0, 1], port)),
                dst: "10.0.0.2:5060".parse().unwrap(),
            },
            seq,
            syn: false,
            fin: false,
            rst: false,
            payload,
            frame,
            time: Timestamp::default(),
        }
    }

    #[test]
    fn full_table_closes_the_least_recently_active_direction() {
        // One connection = two directions: the cap is two directions here.
        let mut r = Reassembler::new(1);
        let ends = std::cell::RefCell::new(Vec::new());
        let data = std::cell::RefCell::new(Vec::new());
        let mut sink = |e: StreamEvent<'_>| match e {
            StreamEvent::End {
                flow,
                frame,
                evicted,
                ..
            } => ends.borrow_mut().push((flow.src.port(), frame, evicted)),
            StreamEvent::Data { flow, data: d, .. } => {
                data.borrow_mut().push((flow.src.port(), d.to_vec()))
            }
            StreamEvent::Gap { .. } => {}
        };
        r.push(seg(1, 100, b"a", 1), &mut sink);
        r.push(seg(2, 100, b"b", 2), &mut sink);
        // Port 1 is active again: port 2 is now the least recently active.
        r.push(seg(1, 101, b"c", 3), &mut sink);
        r.push(seg(3, 100, b"d", 4), &mut sink);
        assert_eq!(
            *ends.borrow(),
            vec![(2, 4, true)],
            "port 2 closed by frame 4"
        );
        // Port 1 survived whole and keeps reassembling after the eviction.
        r.push(seg(1, 102, b"e", 5), &mut sink);
        r.push(seg(4, 100, b"f", 6), &mut sink);
        assert_eq!(ends.borrow()[1], (3, 6, true), "then port 3, not port 1");
        let port1: Vec<u8> = data
            .borrow()
            .iter()
            .filter(|(p, _)| *p == 1)
            .flat_map(|(_, d)| d.clone())
            .collect();
        assert_eq!(port1, b"ace");
        assert_eq!(r.stats.evicted, 2);
        assert_eq!(r.stats.evicted_frames, vec![4, 6]);
        r.finish(7, &mut sink);
        assert_eq!(&ends.borrow()[2..], &[(1, 7, false), (4, 7, false)]);
    }

    #[test]
    fn a_directions_number_is_given_to_another_only_after_its_end() {
        // 40 flows through a table of 8 directions: SYNs, data in and out of order,
        // FIN/RST and evictions in a pseudo-random mix.
        let mut r = Reassembler::new(4);
        let mut open: std::collections::HashMap<u32, Flow> = Default::default();
        let mut seqs = [1000u32; 40];
        let mut x = 12345u64;
        let (mut ends, mut data) = (0, 0);
        for frame in 1..20_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (x >> 33) as usize % 40;
            let kind = (x >> 20) % 16;
            let flow = Flow {
                src: SocketAddr::from(([10, 0, 0, n as u8], 40000)),
                dst: "10.0.0.200:5060".parse().unwrap(),
            };
            // Now and then a segment ahead of the next byte (waits, or becomes a gap).
            let ahead = if kind == 3 { 7 } else { 0 };
            let seg = Segment {
                flow,
                seq: seqs[n].wrapping_add(ahead),
                syn: kind == 0,
                fin: kind == 1,
                rst: kind == 2,
                payload: b"abcde",
                frame,
                time: Timestamp::default(),
            };
            seqs[n] = seqs[n].wrapping_add(if kind == 0 { 6 } else { 5 });
            r.push(seg, &mut |e| {
                let (flow, dir, end) = match e {
                    StreamEvent::Data { flow, dir, .. } | StreamEvent::Gap { flow, dir, .. } => {
                        data += 1;
                        (flow, dir, false)
                    }
                    StreamEvent::End { flow, dir, .. } => {
                        ends += 1;
                        (flow, dir, true)
                    }
                };
                assert!(dir < 8, "numbers stay under the table's size: {dir}");
                match open.get(&dir) {
                    Some(held) => assert_eq!(*held, flow, "frame {frame}: {dir} reused"),
                    None if !end => {
                        assert!(!open.values().any(|f| *f == flow), "one number a flow");
                        open.insert(dir, flow);
                    }
                    None => {}
                }
                if end {
                    open.remove(&dir);
                }
            });
        }
        r.finish(20_000, &mut |e| {
            if let StreamEvent::End { flow, dir, .. } = e {
                assert!(open.remove(&dir).is_none_or(|held| held == flow));
            }
        });
        assert!(open.is_empty(), "every direction ended: {open:?}");
        assert!(ends > 1000 && data > 10_000, "{ends} ends, {data} data");
    }

    #[test]
    fn eviction_is_constant_time_at_any_table_size() {
        // By construction (`LruMap::pop_oldest`): 200 000 directions through a table of
        // 1 000 do 199 000 evictions; a scan per eviction would be 2·10^8 steps.
        let mut r = Reassembler::new(500);
        let mut evicted = 0u64;
        for i in 0..200_000u32 {
            let flow = Flow {
                src: SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 5060)),
                dst: "10.255.0.1:5060".parse().unwrap(),
            };
            r.push(
                Segment {
                    flow,
                    seq: 1,
                    syn: true,
                    fin: false,
                    rst: false,
                    payload: b"",
                    frame: u64::from(i) + 1,
                    time: Timestamp::default(),
                },
                &mut |e| {
                    if let StreamEvent::End { evicted: true, .. } = e {
                        evicted += 1;
                    }
                },
            );
        }
        assert_eq!(evicted, 199_000);
        assert_eq!(r.dirs.len(), 1000);
    }
}
