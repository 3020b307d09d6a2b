//! The scan: capture → net → sip over one file ([`scan_into`]) or several
//! ([`scan_all`], through `app::pipeline`), handing SIP messages to a [`Sink`] and, when
//! wanted, every other packet to a [`PacketSink`]. Input: capture paths; output: the
//! messages and packets in capture order and a [`CaptureReport`] per file.

use crate::capture::{self, CaptureError};
use crate::media::UdpPayload;
use crate::net::{Datagram, Decoder, IcmpError, Packet, StreamEvent};
use crate::sip::{self, CaptureReport, Extractor, RawMessage, SipMessage};

use super::{PacketSink, Sink, pipeline, progress};

/// Lends the packet sink out again (shortening the trait object's lifetime, which
/// `Option::as_deref_mut` cannot).
pub(super) fn relend<'a>(p: &'a mut Option<&mut dyn PacketSink>) -> Option<&'a mut dyn PacketSink> {
    match p {
        Some(p) => Some(&mut **p),
        None => None,
    }
}

/// UDP that is not STUN, read here ([`UdpPayload::read`]) and stripped of its payload
/// for [`PacketSink::read_datagram`]: media needs nothing more of the bytes, and so they
/// do not travel to the thread the packet sink runs on (a cache line per RTP packet).
/// `None`: the datagram goes whole to [`PacketSink::datagram`].
pub(super) fn read_udp<'a>(d: &Datagram<'a>) -> Option<(Datagram<'a>, UdpPayload)> {
    if d.transport != crate::net::Transport::Udp {
        return None;
    }
    let p = UdpPayload::read(d.payload)?;
    Some((Datagram { payload: &[], ..*d }, p))
}

/// A parsed message to the packet sink, then to the sink.
pub(super) fn hand_over(m: SipMessage, sink: &mut dyn Sink, packets: Option<&mut dyn PacketSink>) {
    match packets {
        Some(p) => {
            p.message(&m);
            sink.message(m);
            sink.let_go(&mut |id| p.call_gone(id));
            sink.ended(&mut |id| p.call_ended(id));
        }
        None => sink.message(m),
    }
}

/// Where the scan of one file sends what it finds: the seam between the reading thread
/// and the sinks (see [`pipeline`]).
pub(super) trait Emit {
    /// Whether packets besides SIP are wanted: without, the decoder drops them early.
    fn wants_packets(&self) -> bool;
    /// Whether TCP stream events are wanted (TCP is reassembled for SIP in any case):
    /// with the other packets, or alone (`watch` looks for softphone signalling).
    fn wants_streams(&self) -> bool {
        self.wants_packets()
    }
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, _index: usize) {}
    /// Capture time reached a new second (any frame, SIP or not).
    fn clock(&mut self, _now: crate::capture::Timestamp) {}
    /// A framed SIP message.
    fn raw(&mut self, m: RawMessage<'_>);
    fn datagram(&mut self, d: &Datagram<'_>);
    fn icmp(&mut self, e: &IcmpError);
    fn stream(&mut self, e: &StreamEvent<'_>);
}

/// A command's sink and, beside it, its packet sink: fed on one thread ([`OneThread`]) or
/// on the second of a two-thread scan.
pub(super) struct Direct<'s> {
    pub(super) sink: &'s mut dyn Sink,
    pub(super) packets: Option<&'s mut dyn PacketSink>,
}

/// What a scan emits, with SIP parsed and UDP read, in capture order: fed on the reading
/// thread ([`OneThread`]) or replayed on a second one (`pipeline`).
pub(super) trait Replay {
    /// Whether packets besides SIP are wanted ([`Emit::wants_packets`]).
    fn wants_packets(&self) -> bool {
        true
    }
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, index: usize);
    /// Capture time reached a new second.
    fn clock(&mut self, now: crate::capture::Timestamp);
    fn message(&mut self, m: SipMessage);
    /// A datagram that is not SIP, with what was read of its payload where it was decoded
    /// (UDP that is not STUN, [`UdpPayload::read`]: `d.payload` is then empty).
    fn datagram(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>);
    fn icmp(&mut self, e: &IcmpError);
    fn stream(&mut self, e: &StreamEvent<'_>);
    /// What was let go of while a batch was replayed, to be freed by the reading thread
    /// (see [`Sink::garbage`]).
    fn garbage(&mut self) -> Option<super::Garbage> {
        None
    }
}

/// A command's sink and its packet sink beside it.
impl Replay for Direct<'_> {
    fn wants_packets(&self) -> bool {
        self.packets.is_some()
    }
    fn capture_start(&mut self, index: usize) {
        self.sink.capture_start(index);
        if let Some(p) = relend(&mut self.packets) {
            p.capture_start(index);
        }
    }
    fn clock(&mut self, now: crate::capture::Timestamp) {
        self.sink.clock(now);
    }
    fn message(&mut self, m: SipMessage) {
        hand_over(m, self.sink, relend(&mut self.packets));
    }
    fn datagram(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>) {
        if let Some(p) = relend(&mut self.packets) {
            match read {
                Some(read) => p.read_datagram(d, read),
                None => p.datagram(d),
            }
        }
    }
    fn icmp(&mut self, e: &IcmpError) {
        if let Some(p) = relend(&mut self.packets) {
            p.icmp(e);
        }
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        if let Some(p) = relend(&mut self.packets) {
            p.stream(e);
        }
    }
    fn garbage(&mut self) -> Option<super::Garbage> {
        self.sink.garbage()
    }
}

/// A [`Replay`] fed on the reading thread: SIP parsed and UDP read as they come.
pub(super) struct OneThread<'r>(pub(super) &'r mut dyn Replay);

impl Emit for OneThread<'_> {
    fn wants_packets(&self) -> bool {
        self.0.wants_packets()
    }
    fn capture_start(&mut self, index: usize) {
        self.0.capture_start(index);
    }
    fn clock(&mut self, now: crate::capture::Timestamp) {
        self.0.clock(now);
    }
    fn raw(&mut self, m: RawMessage<'_>) {
        if let Some(m) = m.parse() {
            self.0.message(m);
        }
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        match read_udp(d) {
            Some((d, read)) => self.0.datagram(&d, Some(read)),
            None => self.0.datagram(d, None),
        }
    }
    fn icmp(&mut self, e: &IcmpError) {
        self.0.icmp(e);
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        self.0.stream(e);
    }
}

/// Hands each framed SIP message on unparsed, with its bytes.
struct Raw<'f>(&'f mut dyn FnMut(RawMessage<'_>));

impl Emit for Raw<'_> {
    fn wants_packets(&self) -> bool {
        false
    }
    fn raw(&mut self, m: RawMessage<'_>) {
        (self.0)(m)
    }
    fn datagram(&mut self, _: &Datagram<'_>) {}
    fn icmp(&mut self, _: &IcmpError) {}
    fn stream(&mut self, _: &StreamEvent<'_>) {}
}

/// Scans one capture file and hands every SIP message to `each` as framed, before parsing
/// ([`RawMessage::parse`] gives sipdiag's reading): the bytes a second parser needs to be
/// compared with sipdiag's.
pub fn scan_raw(
    path: &str,
    each: &mut dyn FnMut(RawMessage<'_>),
) -> Result<CaptureReport, CaptureError> {
    scan_into(path, &mut Raw(each))
}

/// Scans one capture file (`-` = standard input) into `sink`, on the calling thread.
/// Only SIP is looked at.
pub fn scan(path: &str, sink: &mut dyn Sink) -> Result<CaptureReport, CaptureError> {
    scan_into(
        path,
        &mut OneThread(&mut Direct {
            sink,
            packets: None,
        }),
    )
}

/// [`scan`], with every other packet handed to `packets`.
pub fn scan_with(
    path: &str,
    sink: &mut dyn Sink,
    packets: &mut dyn PacketSink,
) -> Result<CaptureReport, CaptureError> {
    scan_into(
        path,
        &mut OneThread(&mut Direct {
            sink,
            packets: Some(packets),
        }),
    )
}

/// The stages up to SIP framing over one file: SIP messages and, when wanted, every other
/// packet go to `emit` (when not, non-SIP datagrams are dropped early).
pub(super) fn scan_into(path: &str, emit: &mut dyn Emit) -> Result<CaptureReport, CaptureError> {
    scan_frames(path, emit, |on_frame| capture::read_capture(path, on_frame))
}

/// [`scan_into`] over a file that is still being written (see [`capture::follow`]).
pub(super) fn scan_following(
    path: &str,
    follow: capture::follow::Follow,
    emit: &mut dyn Emit,
) -> Result<CaptureReport, CaptureError> {
    scan_frames(path, emit, |on_frame| {
        capture::read_capture_following(path, follow, on_frame)
    })
}

/// The stages after the capture reader: `read` hands every frame to the callback given.
pub(super) fn scan_frames(
    path: &str,
    emit: &mut dyn Emit,
    read: impl FnOnce(
        &mut dyn FnMut(&capture::Frame<'_>),
    ) -> Result<capture::CaptureSummary, CaptureError>,
) -> Result<CaptureReport, CaptureError> {
    let mut decoder = Decoder::default();
    let mut extractor = Extractor::default();
    let (packets, streams) = (emit.wants_packets(), emit.wants_streams());
    if !packets {
        // Only SIP is wanted: other datagrams are dropped in the decoder.
        decoder.keep_datagrams(sip::may_be_sip);
    }
    let mut progress = progress::Progress::new(path);
    // The second of capture time last handed to `emit.clock`.
    let mut clock = i64::MIN;
    // `--redact`: the frame's bytes rewritten before any stage reads them.
    let mut redactor = crate::redact::active();
    let summary = read(&mut |frame| {
        let redacted;
        let frame = match redactor.as_mut() {
            Some(r) => {
                redacted = capture::Frame {
                    data: r.frame_reused(frame.linktype, frame.data),
                    ..*frame
                };
                &redacted
            }
            None => frame,
        };
        if frame.time.secs > clock {
            clock = frame.time.secs;
            emit.clock(frame.time);
        }
        decoder.decode(frame, &mut |p: Packet<'_>| {
            dispatch(p, &mut extractor, &mut *emit, (packets, streams))
        });
        if let Some(p) = progress.as_mut() {
            p.frame(frame.number, frame.data.len(), extractor.stats.messages);
        }
    });
    if let Some(p) = progress {
        p.finish();
    }
    let summary = summary?;
    decoder
        .finish(&mut |p: Packet<'_>| dispatch(p, &mut extractor, &mut *emit, (packets, streams)));
    extractor.finish();
    let mut anomalies = summary.anomalies;
    anomalies.extend(decoder.anomalies());
    anomalies.extend(extractor.anomalies());
    Ok(CaptureReport {
        path: crate::redact::shown_path(&summary.path),
        format: summary.format,
        frames: summary.frames,
        sip_messages: extractor.stats.messages,
        anomalies,
        sip_fragmented: extractor.stats.fragmented.into_values().collect(),
        file: 0,
    })
}

/// Scans every capture into `sink`: reading, decoding and framing on this thread, SIP
/// parsing and the sink on a second one (`app::pipeline`). Captures that cannot be read at
/// all are returned as errors beside the reports of the others, so callers report what
/// was found and then fail (exit 2). Only SIP is looked at.
pub fn scan_all(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    pipeline::scan_all(paths, sink, None)
}

/// [`scan_all`], with every other packet handed to `packets`, which runs beside the sink
/// on the second thread; SIP is then parsed on the reading thread (see `app::pipeline`).
pub fn scan_all_with(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    packets: &mut (dyn PacketSink + Send),
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    pipeline::scan_all(paths, sink, Some(packets))
}

/// [`scan_all`] / [`scan_all_with`] on the calling thread only.
pub fn scan_all_serial(
    paths: &[String],
    sink: &mut dyn Sink,
    mut packets: Option<&mut dyn PacketSink>,
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        sink.capture_start(i);
        if let Some(ps) = relend(&mut packets) {
            ps.capture_start(i);
        }
        let mut direct = Direct {
            sink: &mut *sink,
            packets: relend(&mut packets),
        };
        match scan_into(p, &mut OneThread(&mut direct)) {
            Ok(r) => reports.push(CaptureReport { file: i, ..r }),
            Err(e) => errors.push(e),
        }
    }
    (reports, errors)
}

/// Where a decoded packet goes: SIP to the extractor (framed messages on to `emit`), every
/// other packet to `emit` when it wants packets (`(packets, streams)`: TCP stream events
/// when it wants those). One file's scan and the merged scan of several files share it.
pub(super) fn dispatch(
    p: Packet<'_>,
    extractor: &mut Extractor,
    emit: &mut dyn Emit,
    (packets, streams): (bool, bool),
) {
    match p {
        Packet::Datagram(d) => {
            if let Some(start) = sip::sip_start(d.payload) {
                extractor.datagram(&d, start, &mut |m| emit.raw(m));
            } else if packets {
                emit.datagram(&d);
            }
        }
        Packet::Stream(e) => {
            extractor.stream(&e, &mut |m| emit.raw(m));
            if streams {
                emit.stream(&e);
            }
        }
        Packet::Icmp(e) => {
            if packets {
                emit.icmp(&e);
            }
        }
    }
}
