//! Two threads for a scan: reading, decoding, framing and the [`PacketSink`] on the
//! calling thread; SIP parsing and the [`Sink`] on a second one.
//!
//! The reading thread records the raw SIP messages [`scan_into`](super::scan_into)
//! frames in batches: one byte arena for every message and a list of records pointing
//! into it. A full batch goes to the sink thread through a bounded channel and comes back
//! empty for reuse, so memory stays bounded (at most `IN_FLIGHT + 3` batches exist) and
//! the messages' bytes are not allocated one by one. The only thing made on one thread
//! and handed to the other is the SDP summary the packet sink made of a message (it
//! moves into the calls, so it is not made twice). The sink thread replays the records
//! in order: it sees exactly the calls a single-threaded [`scan`](super::scan) makes, and
//! results do not depend on the threading. Packets other than SIP never cross: the
//! packet sink sees them where they are decoded.

use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::capture::CaptureError;
use crate::sip::RawMessage;
use crate::sip::message::{Provenance, Start};
use crate::sip::sdp::Sdp;

use super::{CaptureReport, Emit, PacketSink, Sink};

/// A batch is handed over when it holds this many records …
const BATCH_RECORDS: usize = 256;
/// … or this many payload bytes.
const BATCH_BYTES: usize = 128 << 10;
/// Full batches waiting for the sink thread.
const IN_FLIGHT: usize = 8;

/// Position of a payload in [`Batch::bytes`].
type Span = (usize, usize);

/// One thing the scan emitted, with its payload in the batch's arena.
enum Rec {
    Capture(usize),
    Message {
        at: Span,
        prov: Provenance,
        datagram: bool,
        cut: bool,
        start: Start,
        /// Its SDP summary, when the packet sink made it already: a position in
        /// [`Batch::sdps`] (`u32::MAX`: none), which keeps records small.
        sdp: u32,
    },
}

struct Batch {
    bytes: Vec<u8>,
    recs: Vec<Rec>,
    sdps: Vec<Option<Sdp>>,
}

impl Batch {
    /// An empty batch with room for a full one: filled without growing (each growth
    /// copies the bytes gathered so far).
    fn new() -> Self {
        Batch {
            // A batch is handed over at the first message that takes it past the limit.
            bytes: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            recs: Vec::with_capacity(BATCH_RECORDS),
            sdps: Vec::new(),
        }
    }

    fn keep(&mut self, data: &[u8]) -> Span {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(data);
        (at, self.bytes.len())
    }

    fn is_full(&self) -> bool {
        self.recs.len() >= BATCH_RECORDS || self.bytes.len() >= BATCH_BYTES
    }

    /// Replays the records into `sink`, in order, and empties the batch.
    fn deliver(&mut self, sink: &mut dyn Sink) {
        let bytes = &self.bytes;
        for rec in self.recs.drain(..) {
            match rec {
                Rec::Capture(i) => sink.capture_start(i),
                Rec::Message {
                    at,
                    prov,
                    datagram,
                    cut,
                    start,
                    sdp,
                } => {
                    let raw = RawMessage {
                        data: &bytes[at.0..at.1],
                        prov,
                        datagram,
                        cut,
                        start,
                    };
                    let sdp = self.sdps.get_mut(sdp as usize).and_then(Option::take);
                    if let Some(m) = raw.parse_with_sdp(sdp) {
                        sink.message(m);
                    }
                }
            }
        }
        self.bytes.clear();
        self.sdps.clear();
    }
}

/// The reading thread's end: fills batches and sends them.
struct Shipper<'a> {
    batch: Batch,
    full: &'a SyncSender<Batch>,
    empty: &'a Receiver<Batch>,
    /// The sink thread is gone (it panicked): nothing more is sent.
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
            self.batch.recs.clear();
            self.batch.bytes.clear();
            self.batch.sdps.clear();
            return;
        }
        let next = self.empty.try_recv().unwrap_or_else(|_| Batch::new());
        let full = std::mem::replace(&mut self.batch, next);
        if self.full.send(full).is_err() {
            self.gone = true;
        }
    }
}

impl Emit for Shipper<'_> {
    fn raw(&mut self, m: RawMessage<'_>, sdp: Option<Sdp>) {
        let at = self.batch.keep(m.data);
        let sdp = match sdp {
            Some(sdp) => {
                self.batch.sdps.push(Some(sdp));
                (self.batch.sdps.len() - 1) as u32
            }
            None => u32::MAX,
        };
        self.push(Rec::Message {
            at,
            prov: m.prov,
            datagram: m.datagram,
            cut: m.cut,
            start: m.start,
            sdp,
        });
    }
}

/// See [`super::scan_all`]. Falls back to one thread when no thread can be started.
pub(super) fn scan_all(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    mut packets: Option<&mut dyn PacketSink>,
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    let lent: &mut (dyn Sink + Send) = &mut *sink;
    let threaded = std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
        let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
        let worker = std::thread::Builder::new()
            .name("sipdiag-sink".into())
            .spawn_scoped(scope, move || {
                for mut batch in full_rx {
                    batch.deliver(lent);
                    // The reading thread may be done already: then the batch is freed.
                    let _ = empty_tx.send(batch);
                }
            })
            .ok()?;
        let mut shipper = Shipper {
            batch: Batch::new(),
            full: &full_tx,
            empty: &empty_rx,
            gone: false,
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            shipper.push(Rec::Capture(i));
            if let Some(ps) = super::relend(&mut packets) {
                ps.capture_start(i);
            }
            match super::scan_into(p, &mut shipper, super::relend(&mut packets)) {
                Ok(r) => reports.push(r),
                Err(e) => errors.push(e),
            }
        }
        shipper.send();
        drop(shipper);
        drop(full_tx);
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
        Some((reports, errors))
    });
    match threaded {
        Some(done) => done,
        None => super::scan_all_serial(paths, sink, packets),
    }
}
