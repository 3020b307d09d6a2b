//! Two threads for a scan: reading, decoding and framing on the calling thread; SIP
//! parsing and the [`Sink`] on a second one.
//!
//! The reading thread records what [`scan_into`](super::scan_into) emits — raw SIP
//! messages and, when the sink wants them, datagrams, ICMP errors and stream events — in
//! batches: one byte arena for every payload and a list of records pointing into it. A
//! full batch goes to the sink thread through a bounded channel and comes back empty for
//! reuse, so nothing is allocated per message on one thread and freed on the other, and
//! memory stays bounded (at most `IN_FLIGHT + 3` batches exist). The sink thread replays
//! the records in order: it sees exactly the calls a single-threaded [`scan`](super::scan)
//! makes, and results do not depend on the threading.

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::capture::{CaptureError, Timestamp};
use crate::net::{Datagram, Flow, IcmpError, StreamEvent, Transport};
use crate::sip::RawMessage;
use crate::sip::message::{Provenance, Start};

use super::{CaptureReport, Emit, Sink};

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
    },
    Datagram {
        at: Span,
        /// Into [`Batch::frames`]; empty when the datagram had one frame.
        frames: Span,
        frame: u64,
        time: Timestamp,
        src: SocketAddr,
        dst: SocketAddr,
        transport: Transport,
        cut: bool,
    },
    Icmp(IcmpError),
    Data {
        flow: Flow,
        frame: u64,
        origin: u64,
        time: Timestamp,
        at: Span,
    },
    Gap {
        flow: Flow,
        frame_before: u64,
        frame_after: u64,
        missing: u64,
    },
    End {
        flow: Flow,
        frame: u64,
    },
}

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    frames: Vec<u64>,
    recs: Vec<Rec>,
}

impl Batch {
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
                } => {
                    let raw = RawMessage {
                        data: &bytes[at.0..at.1],
                        prov,
                        datagram,
                        cut,
                        start,
                    };
                    if let Some(m) = raw.parse() {
                        sink.message(m);
                    }
                }
                Rec::Datagram {
                    at,
                    frames,
                    frame,
                    time,
                    src,
                    dst,
                    transport,
                    cut,
                } => sink.datagram(&Datagram {
                    frame,
                    frames: if frames.0 == frames.1 {
                        std::slice::from_ref(&frame)
                    } else {
                        &self.frames[frames.0..frames.1]
                    },
                    time,
                    src,
                    dst,
                    transport,
                    payload: &bytes[at.0..at.1],
                    cut,
                }),
                Rec::Icmp(e) => sink.icmp(&e),
                Rec::Data {
                    flow,
                    frame,
                    origin,
                    time,
                    at,
                } => sink.stream(&StreamEvent::Data {
                    flow,
                    frame,
                    origin,
                    time,
                    data: &bytes[at.0..at.1],
                }),
                Rec::Gap {
                    flow,
                    frame_before,
                    frame_after,
                    missing,
                } => sink.stream(&StreamEvent::Gap {
                    flow,
                    frame_before,
                    frame_after,
                    missing,
                }),
                Rec::End { flow, frame } => sink.stream(&StreamEvent::End { flow, frame }),
            }
        }
        self.bytes.clear();
        self.frames.clear();
    }
}

/// The reading thread's end: fills batches and sends them.
struct Shipper<'a> {
    batch: Batch,
    full: &'a SyncSender<Batch>,
    empty: &'a Receiver<Batch>,
    packets: bool,
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
            self.batch.frames.clear();
            return;
        }
        let next = self.empty.try_recv().unwrap_or_default();
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

    fn raw(&mut self, m: RawMessage<'_>) {
        let at = self.batch.keep(m.data);
        self.push(Rec::Message {
            at,
            prov: m.prov,
            datagram: m.datagram,
            cut: m.cut,
            start: m.start,
        });
    }

    fn datagram(&mut self, d: &Datagram<'_>) {
        let at = self.batch.keep(d.payload);
        let frames = if d.frames.len() > 1 {
            let a = self.batch.frames.len();
            self.batch.frames.extend_from_slice(d.frames);
            (a, self.batch.frames.len())
        } else {
            (0, 0)
        };
        self.push(Rec::Datagram {
            at,
            frames,
            frame: d.frame,
            time: d.time,
            src: d.src,
            dst: d.dst,
            transport: d.transport,
            cut: d.cut,
        });
    }

    fn icmp(&mut self, e: &IcmpError) {
        self.push(Rec::Icmp(e.clone()));
    }

    fn stream(&mut self, e: &StreamEvent<'_>) {
        let rec = match *e {
            StreamEvent::Data {
                flow,
                frame,
                origin,
                time,
                data,
            } => Rec::Data {
                flow,
                frame,
                origin,
                time,
                at: self.batch.keep(data),
            },
            StreamEvent::Gap {
                flow,
                frame_before,
                frame_after,
                missing,
            } => Rec::Gap {
                flow,
                frame_before,
                frame_after,
                missing,
            },
            StreamEvent::End { flow, frame } => Rec::End { flow, frame },
        };
        self.push(rec);
    }
}

/// See [`super::scan_all`]. Falls back to one thread when no thread can be started.
pub(super) fn scan_all(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    let packets = sink.wants_packets();
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
            batch: Batch::default(),
            full: &full_tx,
            empty: &empty_rx,
            packets,
            gone: false,
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            shipper.push(Rec::Capture(i));
            match super::scan_into(p, &mut shipper) {
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
        None => super::scan_all_serial(paths, sink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::SipMessage;

    /// A sink that wants messages only gets no packets, and still every message.
    #[test]
    fn message_only_sinks_get_no_packets() {
        struct Only(u64, bool);
        impl Sink for Only {
            fn message(&mut self, _m: SipMessage) {
                self.0 += 1;
            }
            fn datagram(&mut self, _d: &Datagram<'_>) {
                self.1 = true;
            }
            fn wants_packets(&self) -> bool {
                false
            }
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/media/sip-rtp-one-way.pcap"
        );
        let mut s = Only(0, false);
        let (r, _) = scan_all(&[path.to_string()], &mut s);
        assert_eq!(s.0, r[0].sip_messages);
        assert!(s.0 > 0 && !s.1);
    }
}
