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
//! names that file and says what the file read alone says; each SIP message is counted on
//! the file whose frame completed it (once, where a message was seen at two points, on
//! the file that saw it first); what names no frame goes on the first readable file's
//! report (rules add these up over the files).

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
    pipeline::run(sink, packets, pipeline::Batching::SCAN, |emit| {
        scan_merged_into(paths, emit)
    })
}

/// The captures given to a command, into `sink` (and `packets`): one file read as it is,
/// several merged by time (a rotated set, two capture points) as `analyze` reads them,
/// with the index of that read, which names each frame's file (`None`: one file).
pub(super) fn scan_captures(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    packets: Option<&mut (dyn PacketSink + Send)>,
) -> (Vec<CaptureReport>, Vec<CaptureError>, Option<FrameIndex>) {
    if paths.len() > 1 {
        let (reports, errors, index) = scan_merged(paths, sink, packets);
        (reports, errors, Some(index))
    } else {
        let (reports, errors) = pipeline::scan_all(paths, sink, packets);
        (reports, errors, None)
    }
}

/// Frame `n` in its own file's numbers (`index`: that of files read merged), as the
/// message of an anomaly, which names its file, quotes it.
pub(super) fn own_number(index: Option<&FrameIndex>, n: u64) -> u64 {
    index.and_then(|i| i.locate(n)).map_or(n, |p| p.frame)
}

/// Reads the files of a streamed reading again into `sink`: the one file, or several merged
/// by time as the first reading merged them. What they could not read, the first reading
/// reported.
pub(super) fn scan_again(paths: &[String], sink: &mut (dyn Sink + Send)) {
    match paths {
        [path] => drop(super::scan(path, sink)),
        _ => drop(scan_merged(paths, sink, None)),
    }
}

pub(super) fn scan_merged_into(
    paths: &[String],
    emit: &mut dyn Emit,
) -> (Vec<CaptureReport>, Vec<CaptureError>, FrameIndex) {
    let mut decoder = Decoder::default();
    let mut extractor = Extractor::default();
    let (packets, streams) = (emit.wants_packets(), emit.wants_streams());
    if !packets {
        decoder.keep_datagrams(sip::may_be_sip);
    }
    // As in `scan_into`: SIP to the extractor, the rest to the packet sink.
    let on_packet = |p: Packet<'_>, extractor: &mut Extractor, emit: &mut dyn Emit| {
        super::scan::dispatch(p, extractor, emit, (packets, streams))
    };
    // The sinks learn which file the frames come from as it changes, so that each call
    // records the files that carried it (rules look at those files' damage).
    let mut current = None;
    // `--redact`: each file's frames rewritten before any stage reads them (a redactor per
    // file, as a single file's scan has).
    let mut redactors: Vec<Option<crate::redact::Redactor>> =
        paths.iter().map(|_| crate::redact::active()).collect();
    // SIP messages by the file whose frame completed them (a message seen at two capture
    // points is counted once, in the file that saw it first).
    let mut messages_of = vec![0u64; paths.len()];
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
        let before = extractor.stats.messages;
        decoder.decode(frame, &mut |p| on_packet(p, &mut extractor, &mut *emit));
        if let Some(n) = messages_of.get_mut(file) {
            *n += extractor.stats.messages - before;
        }
    });
    decoder.finish(&mut |p| on_packet(p, &mut extractor, &mut *emit));
    extractor.finish();
    // What the end of the input completed belongs to the file read last.
    let counted: u64 = messages_of.iter().sum();
    if let Some(n) = current.and_then(|f| messages_of.get_mut(f)) {
        *n += extractor.stats.messages.saturating_sub(counted);
    }
    // Files are cited by the names the reports give them (`--redact`: `capture-N`).
    let mut index = merged.index;
    index.show_paths_as(crate::redact::shown_path);
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
                let sip_messages = messages_of.get(file).copied().unwrap_or(0);
                reports.push(CaptureReport {
                    path: crate::redact::shown_path(&s.path),
                    format: s.format,
                    frames: s.frames,
                    sip_messages,
                    anomalies: s.anomalies,
                    sip_fragmented: Vec::new(),
                    file,
                });
            }
            Err(e) => errors.push(e),
        }
    }
    // What the stream yielded goes to the report of the file its first frame came from,
    // its message in that file's frame numbers (its `frames` stay merged, cited by file
    // as every frame is); what names no frame to the first.
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
    // A file that could not be read has no report: what it carried (nothing, unless it
    // failed part-way) counts on the first, so that the files add up to the stream.
    let shown: u64 = reports.iter().map(|r| r.sip_messages).sum();
    if let Some(first) = reports.first_mut() {
        first.sip_messages += extractor.stats.messages.saturating_sub(shown);
    }
    (reports, errors, index)
}
