//! Two threads for a scan. The reading thread reads, decodes and frames; the second
//! thread runs the [`Sink`] and, when there is one, the [`PacketSink`] beside it ([`run`])
//! — or a [`Replay`] that takes everything, SIP parsed and UDP read ([`run_replay`]: the
//! judge of `watch` and of a streamed `analyze`).
//!
//! The reading thread records what [`scan_into`](super::scan_into) emits in batches: one
//! byte arena for the payloads and a list of records pointing into it. A full batch goes
//! to the second thread through a bounded channel and comes back empty for reuse, so
//! memory stays bounded (at most `in_flight` + 3 batches exist, [`Batching`]) and payloads are not
//! allocated one by one. The second thread replays the records in order: its sinks see
//! exactly what a single-threaded [`scan`](super::scan()) shows them, and results do not
//! depend on the threading.
//!
//! Where SIP is parsed depends on the work: with only a sink (listing messages or calls),
//! on the second thread, which has little else to do; with a packet sink as well (media:
//! per-packet state for every RTP packet, SDP announcements, the calls), on whichever
//! thread is behind, message by message: on the reading thread while full batches wait
//! for the second (a capture of signalling, where following the calls is the work), on
//! the second while it waits for them (a capture of RTP, where reading is). Parsing is
//! the same on either thread, so results do not depend on where. The state of calls and of
//! media lives on one thread either way, and is never shared. UDP that is not STUN (RTP
//! above all) is recorded without its payload: what media needs of it is read on the
//! reading thread ([`super::read_udp`]), the same way a single-threaded scan reads it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::capture::{CaptureError, Timestamp};
use crate::media::UdpPayload;
use crate::net::{Datagram, IcmpError, StreamEvent, Transport};
use crate::sip::message::{Provenance, Start};
use crate::sip::{RawMessage, SipMessage};

use super::{CaptureReport, Direct, Emit, OneThread, PacketSink, Replay, Sink};

/// How large the batches are, and how many may wait for the second thread.
#[derive(Debug, Clone, Copy)]
pub(super) struct Batching {
    /// A batch is handed over when it holds this many records …
    records: usize,
    /// … or this many payload bytes (parsed messages count with their text and body).
    bytes: usize,
    /// Full batches waiting for the second thread.
    in_flight: usize,
}

impl Batching {
    /// The scans of the commands that list or hold what they read: large batches, many
    /// waiting, so that neither thread waits for the other.
    pub(super) const SCAN: Batching = Batching {
        records: 1024,
        bytes: 256 << 10,
        in_flight: 8,
    };
    /// A judge that follows the calls in progress (`watch`, a streamed `analyze`): its
    /// memory is the capture's calls in progress, and the batches of [`Batching::SCAN`]
    /// add 10 MiB of parsed messages to it on a capture of signalling. A quarter of the
    /// bytes, half as many waiting; four times the records, so that the threads wake each
    /// other seldom on RTP, where a batch is records and no bytes (a quarter as many took
    /// the gain away; from 1,024 to 4,096, an RTP-heavy capture takes 12 % less time, and
    /// more gain nothing). An RTP packet's record is 56 bytes ([`Rec::Udp4`]).
    pub(super) const JUDGE: Batching = Batching {
        records: 4096,
        bytes: 64 << 10,
        in_flight: 4,
    };
}

/// Position of a payload in [`Batch::bytes`] (or of frame numbers in [`Batch::frames`]).
type Span = (usize, usize);

/// The frame list of a datagram that came in one frame (its `frame`).
const ONE_FRAME: Span = (usize::MAX, usize::MAX);

/// What a datagram record carries of its payload.
enum Carried {
    /// The bytes, in the batch's arena.
    Bytes(Span),
    /// What media reads of it, instead of the bytes ([`super::read_udp`]).
    Read(UdpPayload),
}

/// One thing the scan emitted, with its payload in the batch's arena. Kept small (its
/// size is the bytes every RTP packet costs to hand over: written on one core, read on the
/// other): what is rare and large waits in [`Batch::large`].
enum Rec {
    Capture(usize),
    /// Capture time reached a new second.
    Clock(Timestamp),
    /// The next of [`Batch::parsed`].
    Parsed,
    /// The next of [`Batch::large`].
    Large,
    /// A UDP datagram between IPv4 addresses, in one frame, its payload read
    /// ([`super::read_udp`]): RTP, the bulk of a capture.
    Udp4 {
        frame: u64,
        time: Timestamp,
        src: (std::net::Ipv4Addr, u16),
        dst: (std::net::Ipv4Addr, u16),
        read: UdpPayload,
        cut: bool,
    },
}

/// A record too large for [`Rec`].
enum Large {
    /// A SIP message as framed, parsed on replay.
    Raw {
        at: Span,
        prov: Provenance,
        datagram: bool,
        cut: bool,
        start: Start,
    },
    Datagram {
        frame: u64,
        frames: Span,
        time: Timestamp,
        src: std::net::SocketAddr,
        dst: std::net::SocketAddr,
        transport: Transport,
        payload: Carried,
        cut: bool,
    },
    Icmp(IcmpError),
    /// A stream event, detached from its bytes ([`StreamEvent::detach`]), which are at the
    /// span.
    Stream(StreamEvent<'static>, Span),
}

struct Batch {
    bytes: Vec<u8>,
    frames: Vec<u64>,
    recs: Vec<Rec>,
    large: Vec<Large>,
    parsed: Vec<SipMessage>,
    /// Bytes held by `parsed`.
    parsed_bytes: usize,
    /// What the sink let go of while this batch was delivered, dropped by the reading
    /// thread when the batch comes back.
    garbage: Option<super::Garbage>,
    shape: Batching,
}

impl Batch {
    /// An empty batch with room for a full one: filled without growing (each growth
    /// copies what was gathered so far).
    fn new(shape: Batching) -> Self {
        Batch {
            // A batch is handed over at the first payload that takes it past the limit.
            bytes: Vec::with_capacity(shape.bytes + (64 << 10)),
            frames: Vec::new(),
            recs: Vec::with_capacity(shape.records),
            large: Vec::new(),
            // Room for the messages of a typical batch; more grow it once, for good.
            parsed: Vec::with_capacity(shape.records / 4),
            parsed_bytes: 0,
            garbage: None,
            shape,
        }
    }

    fn keep(&mut self, data: &[u8]) -> Span {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(data);
        (at, self.bytes.len())
    }

    fn is_full(&self) -> bool {
        self.recs.len() >= self.shape.records
            || self.bytes.len() + self.parsed_bytes >= self.shape.bytes
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
        self.recs.clear();
        self.large.clear();
        self.parsed.clear();
        self.parsed_bytes = 0;
    }

    /// Replays the records into `to`, in order, and empties the batch.
    fn deliver(&mut self, to: &mut dyn Replay) {
        let Batch {
            bytes,
            frames,
            recs,
            large,
            parsed,
            ..
        } = self;
        let mut parsed = parsed.drain(..);
        let mut large = large.drain(..);
        for rec in recs.drain(..) {
            match rec {
                Rec::Capture(i) => to.capture_start(i),
                Rec::Clock(now) => to.clock(now),
                Rec::Parsed => to.message(parsed.next().expect("one parsed message per record")),
                Rec::Udp4 {
                    frame,
                    time,
                    src,
                    dst,
                    read,
                    cut,
                } => {
                    let d = Datagram {
                        frame,
                        frames: std::slice::from_ref(&frame),
                        time,
                        src: src.into(),
                        dst: dst.into(),
                        transport: Transport::Udp,
                        payload: &[],
                        cut,
                    };
                    to.datagram(&d, Some(read));
                }
                Rec::Large => {
                    let l = large.next().expect("one large record per marker");
                    deliver_large(l, bytes, frames, to);
                }
            }
        }
        drop((parsed, large));
        self.clear();
    }
}

/// Replays one [`Large`] record.
fn deliver_large(l: Large, bytes: &[u8], frames: &[u64], to: &mut dyn Replay) {
    match l {
        Large::Raw {
            at,
            prov,
            datagram,
            cut,
            start,
        } => {
            let raw = RawMessage {
                data: &bytes[at.0..at.1],
                prov,
                datagram,
                cut,
                start,
            };
            if let Some(m) = raw.parse() {
                to.message(m);
            }
        }
        Large::Datagram {
            frame,
            frames: fs,
            time,
            src,
            dst,
            transport,
            payload,
            cut,
        } => {
            let mut d = Datagram {
                frame,
                frames: if fs == ONE_FRAME {
                    std::slice::from_ref(&frame)
                } else {
                    &frames[fs.0..fs.1]
                },
                time,
                src,
                dst,
                transport,
                payload: &[],
                cut,
            };
            match payload {
                Carried::Bytes(at) => {
                    d.payload = &bytes[at.0..at.1];
                    to.datagram(&d, None);
                }
                Carried::Read(read) => to.datagram(&d, Some(read)),
            }
        }
        Large::Icmp(e) => to.icmp(&e),
        Large::Stream(e, at) => to.stream(&e.with_data(&bytes[at.0..at.1])),
    }
}

/// The reading thread's end: fills batches and sends them.
struct Shipper<'a> {
    batch: Batch,
    full: &'a SyncSender<Batch>,
    empty: &'a Receiver<Batch>,
    /// A packet sink runs on the other thread: packets are shipped, and SIP is parsed
    /// here while the other thread is behind ([`Shipper::parses_here`]).
    packets: bool,
    /// Full batches sent and not yet taken by the other thread.
    waiting: &'a AtomicUsize,
    /// The other thread is gone (it panicked): nothing more is sent.
    gone: bool,
}

impl Shipper<'_> {
    fn push(&mut self, rec: Rec) {
        self.batch.recs.push(rec);
        if self.batch.is_full() {
            self.send();
        }
    }

    fn push_large(&mut self, rec: Large) {
        self.batch.large.push(rec);
        self.push(Rec::Large);
    }

    fn send(&mut self) {
        if self.gone {
            self.batch.clear();
            return;
        }
        let shape = self.batch.shape;
        let mut next = self.empty.try_recv().unwrap_or_else(|_| Batch::new(shape));
        next.garbage = None;
        let full = std::mem::replace(&mut self.batch, next);
        self.waiting.fetch_add(1, Ordering::Relaxed);
        if self.full.send(full).is_err() {
            self.gone = true;
        }
    }

    /// Whether a SIP message is parsed here rather than on the other thread: when a
    /// packet sink runs there, and full batches wait for it (it is the slower of the two).
    fn parses_here(&self) -> bool {
        #[cfg(test)]
        if let Some(here) = tests::PARSE_HERE.get() {
            return here && self.packets;
        }
        self.packets && self.waiting.load(Ordering::Relaxed) > 0
    }
}

impl Emit for Shipper<'_> {
    fn wants_packets(&self) -> bool {
        self.packets
    }
    fn capture_start(&mut self, index: usize) {
        self.push(Rec::Capture(index));
    }
    fn clock(&mut self, now: Timestamp) {
        self.push(Rec::Clock(now));
    }

    fn raw(&mut self, m: RawMessage<'_>) {
        if self.parses_here() {
            if let Some(m) = m.parse() {
                // Its SDP too (media and the calls both read it): here rather than on the
                // second thread, which an INVITE flood keeps busy.
                let _ = m.sdp();
                self.batch.parsed_bytes += m.held_bytes();
                self.batch.parsed.push(m);
                self.push(Rec::Parsed);
            }
            return;
        }
        let at = self.batch.keep(m.data);
        self.push_large(Large::Raw {
            at,
            prov: m.prov,
            datagram: m.datagram,
            cut: m.cut,
            start: m.start,
        });
    }

    fn datagram(&mut self, d: &Datagram<'_>) {
        let read = super::read_udp(d).map(|(_, read)| read);
        if let (Some(read), std::net::SocketAddr::V4(src), std::net::SocketAddr::V4(dst)) =
            (read, d.src, d.dst)
            && d.frames == [d.frame]
        {
            self.push(Rec::Udp4 {
                frame: d.frame,
                time: d.time,
                src: (*src.ip(), src.port()),
                dst: (*dst.ip(), dst.port()),
                read,
                cut: d.cut,
            });
            return;
        }
        // Nearly every datagram came in one frame: its list is rebuilt from `frame`.
        let frames = if d.frames == [d.frame] {
            ONE_FRAME
        } else {
            let f = self.batch.frames.len();
            self.batch.frames.extend_from_slice(d.frames);
            (f, self.batch.frames.len())
        };
        let payload = match read {
            Some(read) => Carried::Read(read),
            None => Carried::Bytes(self.batch.keep(d.payload)),
        };
        self.push_large(Large::Datagram {
            frame: d.frame,
            frames,
            time: d.time,
            src: d.src,
            dst: d.dst,
            transport: d.transport,
            payload,
            cut: d.cut,
        });
    }

    fn icmp(&mut self, e: &IcmpError) {
        self.push_large(Large::Icmp(e.clone()));
    }

    fn stream(&mut self, e: &StreamEvent<'_>) {
        let (event, data) = e.detach();
        let at = self.batch.keep(data);
        self.push_large(Large::Stream(event, at));
    }
}

/// See [`super::scan_all`]. Falls back to one thread when no thread can be started.
pub(super) fn scan_all(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    packets: Option<&mut (dyn PacketSink + Send)>,
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    run(sink, packets, Batching::SCAN, |emit| {
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            emit.capture_start(i);
            match super::scan_into(p, emit) {
                Ok(r) => reports.push(CaptureReport { file: i, ..r }),
                Err(e) => errors.push(e),
            }
        }
        (reports, errors)
    })
}

/// Runs `read` (the reading side of a scan) on this thread, and the sinks on a second
/// one, in batches shaped as `shape`; on this thread alone when a second cannot be
/// started.
pub(super) fn run<R>(
    sink: &mut (dyn Sink + Send),
    mut packets: Option<&mut (dyn PacketSink + Send)>,
    shape: Batching,
    read: impl FnOnce(&mut dyn Emit) -> R,
) -> R {
    let mut read = Some(read);
    let wants_packets = packets.is_some();
    let lent = (&mut *sink, packets.as_deref_mut());
    match two_threads(lent, direct_replay, wants_packets, shape, &mut read) {
        Some(done) => done,
        None => {
            let mut direct = Direct {
                sink,
                packets: packets.map(|p| -> &mut dyn PacketSink { p }),
            };
            (read.take().expect("not run on a second thread"))(&mut OneThread(&mut direct))
        }
    }
}

/// Runs `read` on this thread and replays what it emits into `to` on a second one, in
/// batches shaped as `shape`: SIP parsed and UDP read on this thread. On this thread alone
/// when a second cannot be started.
pub(super) fn run_replay<R>(
    to: &mut (dyn Replay + Send),
    shape: Batching,
    read: impl FnOnce(&mut dyn Emit) -> R,
) -> R {
    let mut read = Some(read);
    let wants_packets = to.wants_packets();
    match two_threads(&mut *to, replay_into, wants_packets, shape, &mut read) {
        Some(done) => done,
        None => (read.take().expect("not run on a second thread"))(&mut OneThread(to)),
    }
}

/// The sinks of [`run`], made into a [`Replay`] on the second thread (where they stay:
/// without `Send` from there on).
fn direct_replay<'a, 'b, 'c, 'd>(
    (sink, packets): (
        &'a mut (dyn Sink + Send + 'b),
        Option<&'c mut (dyn PacketSink + Send + 'd)>,
    ),
    go: &mut dyn FnMut(&mut dyn Replay),
) {
    go(&mut Direct {
        sink,
        packets: packets.map(|p| -> &mut dyn PacketSink { p }),
    })
}

/// The [`Replay`] of [`run_replay`], on the second thread.
fn replay_into<'a, 'b>(to: &'a mut (dyn Replay + Send + 'b), go: &mut dyn FnMut(&mut dyn Replay)) {
    go(to)
}

/// The two threads of [`run`] and [`run_replay`]: `replay` makes the [`Replay`] of
/// `target` on the second thread and hands it to the loop that delivers the batches.
/// `None` (and `read` not taken) when the second thread cannot be started.
fn two_threads<T: Send, R>(
    target: T,
    replay: impl FnOnce(T, &mut dyn FnMut(&mut dyn Replay)) + Send,
    wants_packets: bool,
    shape: Batching,
    read: &mut Option<impl FnOnce(&mut dyn Emit) -> R>,
) -> Option<R> {
    #[cfg(test)]
    if tests::NO_SECOND_THREAD.get() {
        return None;
    }
    let waiting = &AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(shape.in_flight);
        let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
        let worker = std::thread::Builder::new()
            .name("sipdiag-sink".into())
            .spawn_scoped(scope, move || {
                replay(target, &mut |to| {
                    for mut batch in full_rx.iter() {
                        waiting.fetch_sub(1, Ordering::Relaxed);
                        batch.deliver(to);
                        batch.garbage = to.garbage();
                        // The reading thread may be done already: then the batch is freed.
                        let _ = empty_tx.send(batch);
                    }
                })
            })
            .ok()?;
        let mut shipper = Shipper {
            batch: Batch::new(shape),
            full: &full_tx,
            empty: &empty_rx,
            packets: wants_packets,
            waiting,
            gone: false,
        };
        let r = (read.take()?)(&mut shipper);
        shipper.send();
        drop(shipper);
        drop(full_tx);
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
        Some(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The second thread "cannot be started" on this test's thread: the scans fall
        /// back to the reading thread alone.
        pub(super) static NO_SECOND_THREAD: std::cell::Cell<bool> =
            const { std::cell::Cell::new(false) };
        /// Where the scans of this test's thread parse SIP when a packet sink runs: here
        /// (`true`) or on the second thread, whichever is behind.
        pub(super) static PARSE_HERE: std::cell::Cell<Option<bool>> =
            const { std::cell::Cell::new(None) };
    }

    /// Every call a [`Replay`] (or a [`Sink`]) receives, as text, and the threads it was
    /// received on.
    #[derive(Default)]
    struct Trace(Vec<String>, std::collections::BTreeSet<Option<String>>);

    impl Trace {
        fn on_this_thread(&mut self) {
            (self.1).insert(std::thread::current().name().map(String::from));
        }
    }

    impl Sink for Trace {
        fn capture_start(&mut self, index: usize) {
            Replay::capture_start(self, index);
        }
        fn clock(&mut self, now: Timestamp) {
            Replay::clock(self, now);
        }
        fn message(&mut self, m: SipMessage) {
            Replay::message(self, m);
        }
    }

    impl Replay for Trace {
        fn capture_start(&mut self, index: usize) {
            self.0.push(format!("capture {index}"));
        }
        fn clock(&mut self, now: Timestamp) {
            self.0.push(format!("clock {now:?}"));
        }
        fn message(&mut self, m: SipMessage) {
            self.on_this_thread();
            let sdp = m.sdp().map(|s| format!("{s:?}"));
            self.0.push(format!(
                "message {} {:?} {} {} {:?} {sdp:?}",
                m.frame,
                m.frames(),
                m.src,
                m.summary(),
                m.problems,
            ));
        }
        fn datagram(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>) {
            self.0.push(format!(
                "datagram {} {:?} {:?} {} {} {} {:?} {read:?}",
                d.frame, d.frames, d.time, d.src, d.dst, d.cut, d.payload
            ));
        }
        fn icmp(&mut self, e: &IcmpError) {
            self.0.push(format!("icmp {e:?}"));
        }
        fn stream(&mut self, e: &StreamEvent<'_>) {
            self.0.push(format!("stream {e:?}"));
        }
    }

    fn fixtures() -> Vec<String> {
        let mut paths = Vec::new();
        for dir in ["reader", "followme", "media"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata")
                .join(dir);
            for e in std::fs::read_dir(dir).expect("fixture directory") {
                let p = e.expect("directory entry").path();
                if matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("pcap" | "pcapng")
                ) {
                    paths.push(p.to_string_lossy().into_owned());
                }
            }
        }
        paths.sort();
        paths
    }

    /// A [`Replay`] fed on two threads, in either shape of batch, gets what it gets fed on
    /// the reading thread alone: the same calls in the same order, with the same reports.
    #[test]
    fn a_replay_gets_on_two_threads_what_it_gets_on_one() {
        let paths = fixtures();
        assert!(paths.len() > 40, "fixtures found: {}", paths.len());
        let mut kinds = std::collections::BTreeSet::new();
        for path in &paths {
            let mut one = Trace::default();
            let r1 = super::super::scan_into(path, &mut OneThread(&mut one));
            // SIP parsed on the reading thread, on the second, or on whichever is behind.
            let wheres = [Some(true), Some(false), None];
            for (shape, here) in [Batching::JUDGE, Batching::SCAN]
                .into_iter()
                .flat_map(|shape| wheres.map(|here| (shape, here)))
            {
                PARSE_HERE.set(here);
                let mut two = Trace::default();
                let r2 = run_replay(&mut two, shape, |emit| super::super::scan_into(path, emit));
                PARSE_HERE.set(None);
                if !two.1.is_empty() {
                    assert_eq!(two.1, [Some("sipdiag-sink".into())].into(), "{path}");
                }
                let how = format!("{shape:?}, parsed here: {here:?}");
                assert_eq!(one.0.len(), two.0.len(), "{path}: calls ({how})");
                for (i, (a, b)) in one.0.iter().zip(&two.0).enumerate() {
                    assert_eq!(a, b, "{path}: call {i} ({how})");
                }
                assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{path}");
            }
            kinds.extend(
                one.0
                    .iter()
                    .filter_map(|l| l.split(' ').next())
                    .map(String::from),
            );
            // UDP read where it was decoded: the datagram comes without its bytes.
            if one
                .0
                .iter()
                .any(|l| l.starts_with("datagram") && l.contains("[] Some("))
            {
                kinds.insert("read".into());
            }
        }
        for kind in ["clock", "datagram", "message", "read", "stream"] {
            assert!(kinds.contains(kind), "no {kind} was compared");
        }
    }

    /// Datagrams go over in a small record (IPv4, one frame, payload read) or a large one
    /// (IPv6, several frames, bytes kept): each comes out as it went in, in order.
    #[test]
    fn datagrams_in_small_and_large_records_come_out_as_they_went_in() {
        let v4 = |a: u8, port| std::net::SocketAddr::from(([192, 0, 2, a], port));
        let v6 = |port| std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
        let rtp = [0x80, 8, 0, 7, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5, 0xd5];
        let stun = [0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42];
        let frames = [[5u64, 6], [7, 8]];
        let sent = |emit: &mut dyn Emit| {
            for i in 0..3_000u64 {
                let one = [i];
                let (src, dst, frames, payload): (_, _, &[u64], &[u8]) = match i % 4 {
                    0 => (v4(1, 4000), v4(2, 5000), &one, &rtp),
                    1 => (v6(4002), v6(5002), &one, &rtp),
                    2 => (v4(1, 4004), v4(2, 5004), &frames[(i % 2) as usize], &rtp),
                    _ => (v4(3, 3478), v4(4, 4006), &one, &stun),
                };
                emit.datagram(&Datagram {
                    frame: *frames.last().expect("a frame"),
                    frames,
                    time: Timestamp::new(i as i64, 7),
                    src,
                    dst,
                    transport: Transport::Udp,
                    payload,
                    cut: i % 3 == 0,
                });
            }
        };
        let mut one = Trace::default();
        sent(&mut OneThread(&mut one));
        assert_eq!(one.0.len(), 3_000);
        assert!(one.0[1].contains("[::1]:4002") && one.0[1].contains("[] Some(Rtp("));
        assert!(one.0[3].contains("[0, 1, 0, 0, 33, 18, 164, 66] None"));
        for shape in [Batching::JUDGE, Batching::SCAN] {
            let mut two = Trace::default();
            run_replay(&mut two, shape, sent);
            assert_eq!(one.0, two.0, "{shape:?}");
        }
    }

    /// When the second thread cannot be started, both scans run on the reading thread
    /// alone and deliver what they deliver on two: a [`Replay`] ([`run_replay`]) and a
    /// [`Sink`] ([`run`], its messages).
    #[test]
    fn without_a_second_thread_the_reading_thread_delivers_alone() {
        let here: std::collections::BTreeSet<Option<String>> =
            [std::thread::current().name().map(String::from)].into();
        let mut messages = 0;
        for path in &fixtures() {
            let read = |emit: &mut dyn Emit| super::super::scan_into(path, emit);
            let (mut two, mut two_sink) = (Trace::default(), Trace::default());
            let r2 = run_replay(&mut two, Batching::JUDGE, read);
            let s2 = run(&mut two_sink, None, Batching::SCAN, read);
            NO_SECOND_THREAD.set(true);
            let (mut one, mut one_sink) = (Trace::default(), Trace::default());
            let r1 = run_replay(&mut one, Batching::JUDGE, read);
            let s1 = run(&mut one_sink, None, Batching::SCAN, read);
            NO_SECOND_THREAD.set(false);
            assert_eq!(one.0, two.0, "{path}");
            assert_eq!(one_sink.0, two_sink.0, "{path}");
            assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{path}");
            assert_eq!(format!("{s1:?}"), format!("{s2:?}"), "{path}");
            for t in [&one, &one_sink] {
                assert!(t.1.is_empty() || t.1 == here, "{path}: {:?}", t.1);
            }
            messages += one_sink
                .0
                .iter()
                .filter(|l| l.starts_with("message"))
                .count();
        }
        assert!(messages > 100, "messages compared: {messages}");
    }
}
