//! Two threads for a scan. The reading thread reads, decodes and frames; the second
//! thread runs the [`Sink`] and, when there is one, the [`PacketSink`] beside it.
//!
//! The reading thread records what [`scan_into`](super::scan_into) emits in batches: one
//! byte arena for the payloads and a list of records pointing into it. A full batch goes
//! to the second thread through a bounded channel and comes back empty for reuse, so
//! memory stays bounded (at most `IN_FLIGHT + 3` batches exist) and payloads are not
//! allocated one by one. The second thread replays the records in order: its sinks see
//! exactly what a single-threaded [`scan`](super::scan()) shows them, and results do not
//! depend on the threading.
//!
//! Where SIP is parsed depends on the work: with only a sink (listing messages or calls),
//! on the second thread, which has little else to do; with a packet sink as well (media:
//! per-packet state for every RTP packet, SDP announcements, the calls), on the reading
//! thread, so that the two threads carry about the same load. The state of calls and of
//! media lives on one thread either way, and is never shared. UDP that is not STUN (RTP
//! above all) is recorded without its payload: what media needs of it is read on the
//! reading thread ([`super::read_udp`]), the same way a single-threaded scan reads it.

use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::capture::{CaptureError, Timestamp};
use crate::media::UdpPayload;
use crate::net::{Datagram, IcmpError, StreamEvent, Transport};
use crate::sip::message::{Provenance, Start};
use crate::sip::{RawMessage, SipMessage};

use super::{CaptureReport, Emit, PacketSink, Sink, hand_over, relend};

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
    /// bytes, half as many waiting; as many records, so that the threads wake each other
    /// as seldom on RTP (a quarter of them took the gain away).
    pub(super) const JUDGE: Batching = Batching {
        records: 1024,
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

/// One thing the scan emitted, with its payload in the batch's arena.
enum Rec {
    Capture(usize),
    /// Capture time reached a new second.
    Clock(Timestamp),
    /// A SIP message as framed, parsed on replay.
    Raw {
        at: Span,
        prov: Provenance,
        datagram: bool,
        cut: bool,
        start: Start,
    },
    /// The next of [`Batch::parsed`].
    Parsed,
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
        self.parsed.clear();
        self.parsed_bytes = 0;
    }

    /// Replays the records into the sinks, in order, and empties the batch.
    fn deliver(&mut self, sink: &mut dyn Sink, mut packets: Option<&mut dyn PacketSink>) {
        let Batch {
            bytes,
            frames,
            recs,
            parsed,
            ..
        } = self;
        let mut parsed = parsed.drain(..);
        for rec in recs.drain(..) {
            match rec {
                Rec::Capture(i) => {
                    sink.capture_start(i);
                    if let Some(p) = relend(&mut packets) {
                        p.capture_start(i);
                    }
                }
                Rec::Clock(now) => sink.clock(now),
                Rec::Raw {
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
                        hand_over(m, sink, relend(&mut packets));
                    }
                }
                Rec::Parsed => {
                    let m = parsed.next().expect("one parsed message per record");
                    hand_over(m, sink, relend(&mut packets));
                }
                Rec::Datagram {
                    frame,
                    frames: fs,
                    time,
                    src,
                    dst,
                    transport,
                    payload,
                    cut,
                } => {
                    if let Some(p) = relend(&mut packets) {
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
                                p.datagram(&d);
                            }
                            Carried::Read(read) => p.read_datagram(&d, read),
                        }
                    }
                }
                Rec::Icmp(e) => {
                    if let Some(p) = relend(&mut packets) {
                        p.icmp(&e);
                    }
                }
                Rec::Stream(e, at) => {
                    if let Some(p) = relend(&mut packets) {
                        p.stream(&e.with_data(&bytes[at.0..at.1]));
                    }
                }
            }
        }
        drop(parsed);
        self.clear();
    }
}

/// The reading thread's end: fills batches and sends them.
struct Shipper<'a> {
    batch: Batch,
    full: &'a SyncSender<Batch>,
    empty: &'a Receiver<Batch>,
    /// A packet sink runs on the other thread: packets are shipped, SIP is parsed here.
    packets: bool,
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

    fn send(&mut self) {
        if self.gone {
            self.batch.clear();
            return;
        }
        let shape = self.batch.shape;
        let mut next = self.empty.try_recv().unwrap_or_else(|_| Batch::new(shape));
        next.garbage = None;
        let full = std::mem::replace(&mut self.batch, next);
        if self.full.send(full).is_err() {
            self.gone = true;
        }
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
        if self.packets {
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
        self.push(Rec::Raw {
            at,
            prov: m.prov,
            datagram: m.datagram,
            cut: m.cut,
            start: m.start,
        });
    }

    fn datagram(&mut self, d: &Datagram<'_>) {
        // Nearly every datagram came in one frame: its list is rebuilt from `frame`.
        let frames = if d.frames == [d.frame] {
            ONE_FRAME
        } else {
            let f = self.batch.frames.len();
            self.batch.frames.extend_from_slice(d.frames);
            (f, self.batch.frames.len())
        };
        let payload = match super::read_udp(d) {
            Some((_, read)) => Carried::Read(read),
            None => Carried::Bytes(self.batch.keep(d.payload)),
        };
        self.push(Rec::Datagram {
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
        self.push(Rec::Icmp(e.clone()));
    }

    fn stream(&mut self, e: &StreamEvent<'_>) {
        let (event, data) = e.detach();
        let at = self.batch.keep(data);
        self.push(Rec::Stream(event, at));
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
                Ok(r) => reports.push(r),
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
    let lent: &mut (dyn Sink + Send) = &mut *sink;
    let wants_packets = packets.is_some();
    let lent_packets = packets.as_deref_mut();
    let threaded = std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(shape.in_flight);
        let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
        let worker = std::thread::Builder::new()
            .name("sipdiag-sink".into())
            .spawn_scoped(scope, move || {
                // Without `Send` from here on: the packet sink stays on this thread.
                let mut packets = lent_packets.map(|p| -> &mut dyn PacketSink { p });
                for mut batch in full_rx {
                    batch.deliver(lent, relend(&mut packets));
                    batch.garbage = lent.garbage();
                    // The reading thread may be done already: then the batch is freed.
                    let _ = empty_tx.send(batch);
                }
            })
            .ok()?;
        let mut shipper = Shipper {
            batch: Batch::new(shape),
            full: &full_tx,
            empty: &empty_rx,
            packets: wants_packets,
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
    });
    match threaded {
        Some(done) => done,
        None => {
            let mut direct = super::Direct {
                sink,
                packets: packets.map(|p| -> &mut dyn PacketSink { p }),
            };
            (read.take().expect("not run on a second thread"))(&mut direct)
        }
    }
}
