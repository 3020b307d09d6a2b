//! Wiring for several captures of one incident: capture (merged by timestamp,
//! `capture::merge`) → net → SIP framing, once over the merged stream.
//!
//! Input: the paths given to `analyze` (or `flow`). Output: one [`CaptureReport`] per
//! readable file, the errors of the others, and the [`FrameIndex`] that turns the merged
//! frame numbers the rest of the pipeline cites back into (file, frame) pairs. The
//! decoder and the SIP extractor see one stream, so a TCP connection or a call captured
//! at two points is reassembled and counted once. What the stream yields is put on the
//! report of the file it came from: a decoding anomaly (a TCP gap, a lost fragment, SIP cut
//! by the snaplen) or fragmented SIP on that of its first frame, its message written in
//! that file's frame numbers as the reader's own anomalies are, so that a finding about it
//! names that file and says what the file read alone says; the SIP message count, and what
//! names no frame, on the first readable file's (rules add these up over the files).

use crate::capture::merge::{FrameIndex, read_merged};
use crate::capture::{CaptureError, Frame};
use crate::net::{Decoder, Packet};
use crate::sip::{self, Extractor};

use super::{CaptureReport, Emit, PacketSink, Sink, pipeline};

/// [`super::scan_all_with`] over captures merged by timestamp (see the module docs).
pub(super) fn scan_merged(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    packets: Option<&mut (dyn PacketSink + Send)>,
) -> (Vec<CaptureReport>, Vec<CaptureError>, FrameIndex) {
    pipeline::run(sink, packets, |emit| scan_merged_into(paths, emit))
}

fn scan_merged_into(
    paths: &[String],
    emit: &mut dyn Emit,
) -> (Vec<CaptureReport>, Vec<CaptureError>, FrameIndex) {
    let mut decoder = Decoder::default();
    let mut extractor = Extractor::default();
    let packets = emit.wants_packets();
    if !packets {
        decoder.keep_datagrams(sip::may_be_sip);
    }
    // As in `scan_into`: SIP to the extractor, the rest to the packet sink.
    let on_packet = |p: Packet<'_>, extractor: &mut Extractor, emit: &mut dyn Emit| {
        super::scan::dispatch(p, extractor, emit, packets)
    };
    // The sinks learn which file the frames come from as it changes, so that each call
    // records the files that carried it (rules look at those files' damage).
    let mut current = None;
    // `--redact`: each file's frames rewritten before any stage reads them (a redactor per
    // file, as a single file's scan has).
    let mut redactors: Vec<Option<crate::redact::Redactor>> =
        paths.iter().map(|_| crate::redact::active()).collect();
    let merged = read_merged(paths, |frame: &Frame<'_>, file| {
        if current != Some(file) {
            current = Some(file);
            emit.capture_start(file);
        }
        let redacted;
        let frame = match redactors.get_mut(file).and_then(Option::as_mut) {
            Some(r) => {
                redacted = Frame {
                    data: r.frame_reused(frame.linktype, frame.data),
                    ..*frame
                };
                &redacted
            }
            None => frame,
        };
        decoder.decode(frame, &mut |p| on_packet(p, &mut extractor, &mut *emit));
    });
    decoder.finish(&mut |p| on_packet(p, &mut extractor, &mut *emit));
    extractor.finish();
    let index = merged.index;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    // The report of each file given (`None`: not readable).
    let mut report_of = vec![None; paths.len()];
    for (file, r) in merged.files.into_iter().enumerate() {
        match r {
            Ok(mut s) => {
                // The reader counted in the file's own numbers; the report cites the
                // merged stream's.
                for a in &mut s.anomalies {
                    a.frames = a
                        .frames
                        .iter()
                        .filter_map(|&n| index.merged_number(file, n))
                        .collect();
                }
                report_of[file] = Some(reports.len());
                reports.push(CaptureReport {
                    path: crate::redact::shown_path(&s.path),
                    format: s.format,
                    frames: s.frames,
                    sip_messages: 0,
                    anomalies: s.anomalies,
                    sip_fragmented: Vec::new(),
                });
            }
            Err(e) => errors.push(e),
        }
    }
    // What the stream yielded goes to the report of the file its first frame came from,
    // its message in that file's frame numbers (its `frames` stay merged, cited by file
    // as every frame is); what names no frame, and the SIP message count, to the first.
    let own = |n: u64| index.locate(n).map_or(n, |p| p.frame);
    let report_for = |frames: &[u64]| {
        frames
            .first()
            .and_then(|&n| index.locate(n))
            .and_then(|p| report_of.get(p.file).copied().flatten())
            .unwrap_or(0)
    };
    let stream =
        (decoder.anomalies_numbered(&own).into_iter()).chain(extractor.anomalies_numbered(&own));
    for a in stream {
        if let Some(r) = reports.get_mut(report_for(&a.frames)) {
            r.anomalies.push(a);
        }
    }
    for mut f in std::mem::take(&mut extractor.stats.fragmented).into_values() {
        f.largest_shown = f.largest_frames.iter().map(|&n| own(n)).collect();
        if let Some(r) = reports.get_mut(report_for(&f.largest_frames)) {
            r.sip_fragmented.push(f);
        }
    }
    if let Some(first) = reports.first_mut() {
        first.sip_messages = extractor.stats.messages;
    }
    (reports, errors, index)
}
