//! Stage 1, several files: the captures of one incident → one stream of [`Frame`]s in
//! timestamp order.
//!
//! Input: capture files taken at different points (PBX side, XCC side), and rotated file
//! sets (`tcpdump -C/-G`) given together. Output: every frame of every file, merged by
//! timestamp (a k-way merge; on equal times the file given first wins, as in `mergecap`),
//! numbered 1, 2, 3 … through the merged stream: the numbers `mergecap -w merged.pcapng
//! FILES…` gives the same frames. A [`FrameIndex`] turns such a number back into the file
//! and the frame number Wireshark shows in that file.
//!
//! Capture points: a file whose first frame comes after another file (same link type) has
//! ended continues that file's capture point (a rotated set); any other file is a capture
//! point of its own. The decision is made as the merge reaches each file's first frame,
//! with no pass ahead. A packet seen at two capture points is handed on once, at its first
//! sighting; the later sighting keeps its number (as in mergecap) and is recorded as the
//! same packet ([`FrameIndex::cited`]). "The same packet": equal IP source, destination,
//! protocol, IPv4 identification and fragment field, and equal bytes after the IP header
//! (TTL, checksum and link layer may differ between the points), within
//! [`WINDOW_V4`] (IPv4, whose identification tells retransmissions apart) or [`WINDOW_V6`]
//! (IPv6: below SIP's first retransmission interval, T1 = 500 ms).
//!
//! Streaming: each file is read on its own thread into small batches through a bounded
//! channel, started only when the merge reaches the file's first frame (looked at
//! before, `reader::first_frame_time`) and ended with the file, so memory holds at most
//! two batches and a reading buffer per file being read (one or two of a rotated set),
//! the packets of the deduplication window, and the latest entries of the index (one
//! entry per run of consecutive frames of one file, plus one per duplicate up to
//! [`MAX_ALIASES`]; the older ones in a temporary file, [`FrameIndex`]).

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::mpsc;

use serde::Serialize;

use super::reader::first_frame_time;
use super::{CaptureError, CaptureSummary, Frame, Timestamp, read_capture};

mod index;
pub use index::FrameIndex;

/// Identical IPv4 packets (identification included) this close in time are one packet.
pub const WINDOW_V4: Timestamp = Timestamp { secs: 2, nanos: 0 };
/// Identical IPv6 packets this close in time are one packet.
pub const WINDOW_V6: Timestamp = Timestamp {
    secs: 0,
    nanos: 250_000_000,
};
/// Duplicates recorded in the index at most (beyond, they are still dropped, but not
/// cited): a bound on its temporary file (24 MiB; on memory without a temporary
/// directory) for long captures with media seen at both points.
pub const MAX_ALIASES: usize = 1 << 20;

/// Frames per batch handed from a reading thread.
const BATCH_FRAMES: usize = 256;
/// Bytes per batch handed from a reading thread.
const BATCH_BYTES: usize = 256 << 10;

/// One frame as a file yielded it, its bytes in the batch's arena.
struct Held {
    number: u64,
    time: Timestamp,
    linktype: u32,
    orig_len: u32,
    at: (usize, usize),
}

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    frames: VecDeque<Held>,
}

enum FromFile {
    Frames(Batch),
    Done(Result<CaptureSummary, CaptureError>),
}

/// A frame's place in the files read: which file (index into the paths given) and its
/// frame number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub file: usize,
    pub frame: u64,
}

/// A frame cited by file and number, as `analyze` JSON writes it when several files are
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CitedFrame {
    /// The capture file, as given on the command line.
    pub capture: String,
    /// The frame number in that file, as Wireshark shows it.
    pub frame: u64,
}

/// A finding's `frames` in JSON: frame numbers when one file is read; with several
/// files, every sighting of each frame by file and frame number in that file.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum FrameCitations {
    Numbers(Vec<u64>),
    Cited(Vec<CitedFrame>),
}

/// What a merged read produced: per file, its summary or why it could not be read (in
/// the order given), and the index of the merged numbers.
pub struct Merged {
    pub files: Vec<Result<CaptureSummary, CaptureError>>,
    pub index: FrameIndex,
}

/// Reads `paths` as one capture merged by timestamp and calls `on_frame` for every
/// frame, numbered through the merged stream, with the index of the file it came from;
/// packets already seen at another capture point are not handed on (see the module docs).
pub fn read_merged(paths: &[String], mut on_frame: impl FnMut(&Frame<'_>, usize)) -> Merged {
    let n = paths.len();
    let mut files: Vec<Option<Result<CaptureSummary, CaptureError>>> =
        (0..n).map(|_| None).collect();
    let mut index = FrameIndex::merging(paths);
    // Each file's first frame, looked at before any is read: a file is read (on its own
    // thread, with its buffers) only once the merge reaches it, so that a rotated set of a
    // hundred files is read one or two at a time. A file whose first frame could not be
    // looked at is read at once (its error is reported as it was).
    let firsts: Vec<Option<Timestamp>> = paths.iter().map(|p| first_frame_time(p)).collect();
    std::thread::scope(|scope| {
        let mut rx: Vec<Option<mpsc::Receiver<FromFile>>> = (0..n).map(|_| None).collect();
        let start =
            |i: usize,
             rx: &mut [Option<mpsc::Receiver<FromFile>>],
             files: &mut [Option<Result<CaptureSummary, CaptureError>>]| {
                let (tx, r) = mpsc::sync_channel::<FromFile>(1);
                rx[i] = Some(r);
                let path = paths[i].clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("sipdiag-read-{i}"))
                    .spawn_scoped(scope, move || read_file(&path, &tx));
                if let Err(e) = spawned {
                    files[i] = Some(Err(CaptureError::Read {
                        path: paths[i].clone(),
                        cause: format!("cannot start a thread to read it: {e}"),
                    }));
                }
            };
        let mut state = MergeState::new(n);
        let mut current: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
        // The head of each file with frames left: (time, file), earliest first.
        let mut heads = BinaryHeap::new();
        let refill = |i: usize,
                      rx: &[Option<mpsc::Receiver<FromFile>>],
                      current: &mut [Batch],
                      heads: &mut BinaryHeap<std::cmp::Reverse<(Timestamp, usize)>>,
                      files: &mut [Option<Result<CaptureSummary, CaptureError>>],
                      state: &mut MergeState| {
            while current[i].frames.is_empty() {
                match rx[i].as_ref().map(mpsc::Receiver::recv) {
                    Some(Ok(FromFile::Frames(b))) => current[i] = b,
                    Some(Ok(FromFile::Done(r))) => {
                        files[i].get_or_insert(r);
                        state.finished(i);
                        return;
                    }
                    _ => {
                        state.finished(i);
                        return;
                    }
                }
            }
            if let Some(h) = current[i].frames.front() {
                heads.push(std::cmp::Reverse((h.time, i)));
            }
        };
        for i in 0..n {
            match firsts[i] {
                // Not read yet: its first frame stands for it.
                Some(t) => heads.push(std::cmp::Reverse((t, i))),
                None => {
                    start(i, &mut rx, &mut files);
                    if files[i].is_none() {
                        refill(i, &rx, &mut current, &mut heads, &mut files, &mut state);
                    }
                }
            }
        }
        let mut merged = 0u64;
        while let Some(std::cmp::Reverse((_, i))) = heads.pop() {
            if rx[i].is_none() {
                // Reached: read from here on, its head its first frame as read.
                start(i, &mut rx, &mut files);
                if files[i].is_none() {
                    refill(i, &rx, &mut current, &mut heads, &mut files, &mut state);
                }
                continue;
            }
            let Some(h) = current[i].frames.pop_front() else {
                continue;
            };
            merged += 1;
            let data = &current[i].bytes[h.at.0..h.at.1];
            index.push(merged, i, h.number);
            if state.first_seen(i, h.time, h.linktype) {
                index.point_of[i] = state.point[i];
            }
            let point = state.point[i].unwrap_or(i);
            match state
                .dedup
                .sighting(point, h.time, h.linktype, data, merged)
            {
                Some(kept) => {
                    index.duplicates += 1;
                    index.alias(kept, i, h.number);
                }
                None => on_frame(
                    &Frame {
                        number: merged,
                        time: h.time,
                        linktype: h.linktype,
                        data,
                        orig_len: h.orig_len,
                    },
                    i,
                ),
            }
            state.last[i] = h.time;
            refill(i, &rx, &mut current, &mut heads, &mut files, &mut state);
        }
        index.points = state.points;
        // Every reading thread has sent its end; the scope joins them.
    });
    let files = files
        .into_iter()
        .zip(paths)
        .map(|(r, p)| {
            r.unwrap_or_else(|| {
                Err(CaptureError::Read {
                    path: p.clone(),
                    cause: "reading stopped unexpectedly".into(),
                })
            })
        })
        .collect();
    Merged { files, index }
}

#[cfg(test)]
/// Files being read, as they start and end (the tests count how many at once).
static READS: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());

/// Reads one file into batches for the merge.
fn read_file(path: &str, tx: &mpsc::SyncSender<FromFile>) {
    #[cfg(test)]
    READS.lock().unwrap().push((path.to_string(), true));
    let mut batch = Batch::default();
    let mut gone = false;
    let r = read_capture(path, |f| {
        if gone {
            return;
        }
        let at = batch.bytes.len();
        batch.bytes.extend_from_slice(f.data);
        batch.frames.push_back(Held {
            number: f.number,
            time: f.time,
            linktype: f.linktype,
            orig_len: f.orig_len,
            at: (at, batch.bytes.len()),
        });
        if batch.frames.len() >= BATCH_FRAMES || batch.bytes.len() >= BATCH_BYTES {
            gone = tx
                .send(FromFile::Frames(std::mem::take(&mut batch)))
                .is_err();
        }
    });
    if !batch.frames.is_empty() && !gone {
        let _ = tx.send(FromFile::Frames(batch));
    }
    // Its buffers are freed: the merge may go on to the next file.
    #[cfg(test)]
    READS.lock().unwrap().push((path.to_string(), false));
    let _ = tx.send(FromFile::Done(r));
}

/// Capture points and deduplication as the merge goes.
struct MergeState {
    /// Capture point of each file, once its first frame is reached.
    point: Vec<Option<usize>>,
    /// Link type of each file's first frame.
    linktype: Vec<u32>,
    /// Time of each file's latest frame.
    last: Vec<Timestamp>,
    done: Vec<bool>,
    /// Per capture point, the file it is reading (or read last) and whether that file
    /// is still being read.
    point_file: Vec<(usize, bool)>,
    points: usize,
    dedup: Dedup,
}

impl MergeState {
    fn new(n: usize) -> Self {
        MergeState {
            point: vec![None; n],
            linktype: vec![0; n],
            last: vec![Timestamp::default(); n],
            done: vec![false; n],
            point_file: Vec::new(),
            points: 0,
            dedup: Dedup::default(),
        }
    }

    fn finished(&mut self, file: usize) {
        self.done[file] = true;
        if let Some(p) = self.point[file] {
            self.point_file[p].1 = false;
        }
    }

    /// Assigns `file` its capture point at its first frame; `true` when this was it.
    fn first_seen(&mut self, file: usize, time: Timestamp, linktype: u32) -> bool {
        if self.point[file].is_some() {
            return false;
        }
        self.linktype[file] = linktype;
        // A rotated set: a point whose file has ended before this one starts, same link
        // type; the one that ended last.
        let continues = self
            .point_file
            .iter()
            .enumerate()
            .filter(|(_, (f, busy))| {
                !busy && self.linktype[*f] == linktype && self.last[*f] <= time
            })
            .max_by_key(|(_, (f, _))| self.last[*f])
            .map(|(p, _)| p);
        let p = continues.unwrap_or_else(|| {
            self.points += 1;
            self.point_file.push((file, true));
            self.points - 1
        });
        self.point_file[p] = (file, !self.done[file]);
        self.point[file] = Some(p);
        true
    }
}

/// The packets of the last moments, by content, to recognise a packet seen at two points.
#[derive(Default)]
struct Dedup {
    /// Content hash → (time, capture point, merged number) of its first sighting.
    seen: HashMap<u64, (Timestamp, usize, u64)>,
    /// In time order, to forget packets older than the window.
    order: VecDeque<(Timestamp, u64)>,
}

impl Dedup {
    /// A packet at `point`: `Some(merged number)` of the same packet handed on from
    /// another point within the window, else `None` (and it is remembered).
    fn sighting(
        &mut self,
        point: usize,
        time: Timestamp,
        linktype: u32,
        data: &[u8],
        merged: u64,
    ) -> Option<u64> {
        let (key, window) = packet_key(linktype, data)?;
        // Forget what is older than the longest window.
        while let Some(&(t, k)) = self.order.front() {
            if within(t, time, WINDOW_V4) {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&k).is_some_and(|s| s.0 == t) {
                self.seen.remove(&k);
            }
        }
        if let Some(&(t, p, m)) = self.seen.get(&key)
            && p != point
            && within(t, time, window)
        {
            return Some(m);
        }
        self.seen.insert(key, (time, point, merged));
        self.order.push_back((time, key));
        None
    }
}

/// `b` is at most `window` after `a` (times come in order, so `a <= b`).
fn within(a: Timestamp, b: Timestamp, window: Timestamp) -> bool {
    let limit = Timestamp::new(a.secs + window.secs, a.nanos + window.nanos);
    b <= limit
}

/// What identifies an IP packet across capture points, and the window it holds for:
/// everything but TTL/hop limit, checksum and the link layer. `None`: not IP, or a link
/// type not looked into (such frames are never taken as duplicates).
fn packet_key(linktype: u32, data: &[u8]) -> Option<(u64, Timestamp)> {
    let ip = ip_of(linktype, data)?;
    let mut h = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let end = total.min(ip.len());
            if ihl < 20 || end < ihl {
                return None;
            }
            // Identification, flags and fragment offset; protocol; source; destination.
            h.write(ip.get(4..8)?);
            h.write_u8(*ip.get(9)?);
            h.write(ip.get(12..20)?);
            h.write(&ip[ihl..end]);
            Some((h.finish(), WINDOW_V4))
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let end = (40 + len).min(ip.len());
            // Next header; source and destination; the payload.
            h.write_u8(*ip.get(6)?);
            h.write(ip.get(8..40)?);
            h.write(&ip[40..end]);
            Some((h.finish(), WINDOW_V6))
        }
        _ => None,
    }
}

/// The IP header and what follows, for the common link types.
fn ip_of(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    match linktype {
        // Ethernet, VLAN tags skipped.
        1 => {
            let mut at = 12;
            loop {
                let ty = u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]);
                match ty {
                    0x8100 | 0x88a8 | 0x9100 => at += 4,
                    0x0800 | 0x86dd => return data.get(at + 2..),
                    _ => return None,
                }
            }
        }
        // BSD loopback (a 4-byte family).
        0 | 108 => data.get(4..),
        // Raw IP.
        12 | 14 | 101 | 228 | 229 => Some(data),
        // Linux cooked capture v1 and v2.
        113 => data.get(16..),
        276 => data.get(20..),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap (Ethernet) of `(seconds, frame bytes)`.
    fn pcap(frames: &[(u32, Vec<u8>)]) -> tempfile::NamedTempFile {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for (sec, data) in frames {
            v.extend_from_slice(&sec.to_le_bytes());
            v.extend_from_slice(&0u32.to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
        }
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), v).unwrap();
        f
    }

    /// An Ethernet frame with an IPv4/UDP packet: `mac` and `ttl` differ between capture
    /// points, `id` and `payload` identify the packet.
    fn udp(mac: u8, ttl: u8, id: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![mac; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&[0, 0, ttl, 17, ttl, 0]); // checksum differs with the TTL
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x13, 0xc4, 0x13, 0xc4]);
        f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }

    fn run(paths: &[&tempfile::NamedTempFile]) -> (Vec<(u64, i64, Vec<u8>)>, Merged) {
        let paths: Vec<String> = paths
            .iter()
            .map(|p| p.path().to_string_lossy().into_owned())
            .collect();
        let mut got = Vec::new();
        let m = read_merged(&paths, |f, _| {
            got.push((f.number, f.time.secs, f.data.to_vec()))
        });
        (got, m)
    }

    #[test]
    fn two_points_merge_by_time_and_count_a_packet_once() {
        // PBX side: packets 1 (t=10) and 3 (t=12); XCC side sees packet 1 a little later
        // (other MACs, one hop less TTL) and its own packet 2 (t=11).
        let a = pcap(&[
            (10, udp(0xaa, 64, 1, b"one")),
            (12, udp(0xaa, 64, 3, b"three")),
        ]);
        let b = pcap(&[
            (10, udp(0xbb, 63, 1, b"one")),
            (11, udp(0xbb, 63, 2, b"two")),
        ]);
        let (got, m) = run(&[&a, &b]);
        // Merged numbers as mergecap gives them: a#1, b#1 (equal time: a first), b#2, a#2.
        let handed: Vec<(u64, i64)> = got.iter().map(|g| (g.0, g.1)).collect();
        assert_eq!(handed, [(1, 10), (3, 11), (4, 12)]);
        assert_eq!(m.index.duplicates, 1);
        assert_eq!(m.index.points(), 2);
        let p = |file, frame| Place { file, frame };
        assert_eq!(m.index.cited(1), [p(0, 1), p(1, 1)]);
        assert_eq!(m.index.cited(3), [p(1, 2)]);
        assert_eq!(m.index.cited(4), [p(0, 2)]);
        assert!(m.files.iter().all(|f| f.is_ok()));
    }

    #[test]
    fn a_retransmission_is_not_a_duplicate() {
        // The same bytes at two points, but a new IP identification: a retransmission.
        let a = pcap(&[(10, udp(0xaa, 64, 1, b"INVITE"))]);
        let b = pcap(&[(10, udp(0xbb, 63, 2, b"INVITE"))]);
        let (got, m) = run(&[&a, &b]);
        assert_eq!(got.len(), 2);
        assert_eq!(m.index.duplicates, 0);
        // The same packet, but further apart than the window: two packets.
        let c = pcap(&[(20, udp(0xbb, 63, 1, b"INVITE"))]);
        let (got, _) = run(&[&a, &c]);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_rotated_set_reads_as_one_file() {
        let frames: Vec<(u32, Vec<u8>)> = (0..5)
            .map(|i| (10 + i, udp(0xaa, 64, i as u16, b"x")))
            .collect();
        let whole = pcap(&frames);
        let first = pcap(&frames[..2]);
        let second = pcap(&frames[2..]);
        let (all, _) = run(&[&whole]);
        // Given in either order: one capture point, numbered through.
        for order in [[&first, &second], [&second, &first]] {
            let (got, m) = run(&order);
            assert_eq!(got, all);
            assert_eq!(m.index.points(), 1);
        }
        let (_, m) = run(&[&first, &second]);
        assert_eq!(m.index.locate(3), Some(Place { file: 1, frame: 1 }));
        assert_eq!(m.index.merged_number(1, 1), Some(3));
        assert_eq!(m.index.merged_number(0, 2), Some(2));
        assert_eq!(m.index.merged_number(0, 3), None);
        assert_eq!(m.index.point_of(), [Some(0), Some(0)]);
    }

    /// A file is read once the merge reaches its first frame: a rotated set of eight
    /// files, given in any order, is read one file at a time, in the order of their
    /// frames, not all at once, each reading with its buffers.
    #[test]
    fn a_rotated_set_is_read_a_file_at_a_time() {
        let parts: Vec<tempfile::NamedTempFile> = (0..8)
            .map(|k| {
                pcap(&[
                    (10 + 2 * k, udp(0xaa, 64, k as u16, b"x")),
                    (11 + 2 * k, udp(0xaa, 64, 100 + k as u16, b"y")),
                ])
            })
            .collect();
        let mut order: Vec<&tempfile::NamedTempFile> = parts.iter().collect();
        order.reverse();
        let (got, m) = run(&order);
        let times: Vec<i64> = got.iter().map(|g| g.1).collect();
        assert_eq!(times, (10..26).collect::<Vec<i64>>());
        assert_eq!(m.index.points(), 1);
        let ours: Vec<String> = (parts.iter())
            .map(|p| p.path().to_string_lossy().into_owned())
            .collect();
        let (mut now, mut peak, mut started) = (0usize, 0usize, 0);
        for (path, start) in READS
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| ours.contains(p))
        {
            if *start {
                now += 1;
                started += 1;
                // In the order of their frames.
                assert_eq!(*path, ours[started - 1]);
            } else {
                now -= 1;
            }
            peak = peak.max(now);
        }
        assert_eq!(started, 8);
        assert_eq!(peak, 1, "files read at once");
    }

    #[test]
    fn an_unreadable_file_is_its_own_error() {
        let a = pcap(&[(10, udp(0xaa, 64, 1, b"one"))]);
        let bad = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(bad.path(), b"not a capture").unwrap();
        let (got, m) = run(&[&a, &bad]);
        assert_eq!(got.len(), 1);
        assert!(m.files[0].is_ok() && m.files[1].is_err());
    }
}
