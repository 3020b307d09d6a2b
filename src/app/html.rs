//! `analyze --format html`: what the page shows besides the analysis, gathered after the
//! diagnosis: the ladder of each failed call with its linked legs (the ladders of
//! `analyze --flow`, from the same recorder) and the full text of their messages.
//!
//! The scan keeps no message text: which calls end up in a ladder is known only once
//! every call is finished and judged. So the texts are read by a second pass over each
//! capture file, keeping only the frames the ladders show (bounded per message and in
//! all); memory stays with the calls, not the capture. Standard input not kept for a
//! second reading (`--in-memory`, several files) is read once: its ladders are drawn
//! without the texts, and the page says so.
//!
//! One file read as a stream keeps no call either: the failed calls are found and drawn
//! from further readings, as for `analyze --flow` ([`streamed_ladders`]).

use crate::report::html::{HtmlLadder, HtmlLadders};

use super::Diagnosis;
use super::flow::{
    Drawing, Drawn, Recorder, failed_groups, flags, ladder_with_captures, streamed_failed_drawings,
};

/// Ladders on one page; the rest of the failed calls are counted.
const MAX_LADDERS: usize = 20;
/// Messages drawn per ladder; a call with more (a long re-INVITE or INFO exchange) is cut.
const MAX_ARROWS: usize = 300;
/// Bytes of one message's text shown; a longer body is cut with a note.
const MAX_TEXT: usize = 16 * 1024;
/// Bytes of message text on the whole page.
const MAX_TOTAL_TEXT: usize = 4 * 1024 * 1024;

/// The ladders of the failed calls among those kept, with their messages' text.
pub(super) fn ladders(
    rec: &Recorder,
    d: &Diagnosis,
    keep: &[bool],
    captures: &[String],
    ports: &crate::cli::MediaPortArgs,
) -> HtmlLadders {
    let groups = failed_groups(d, keep);
    let softphone_port = ports.softphone_port.unwrap_or(2230);
    let mut out = HtmlLadders {
        ladders: Vec::new(),
        failed: groups.len(),
    };
    let mut arrow_captures = Vec::new();
    for group in groups.iter().take(MAX_LADDERS) {
        let keep = flags(group, d.calls.len());
        let drawing = Drawing::of(d, &keep);
        let drawn = ladder_with_captures(rec, &drawing, captures, softphone_port);
        add_ladder(&mut out, &mut arrow_captures, drawn);
    }
    fill_texts(
        &mut out.ladders,
        &arrow_captures,
        captures,
        d.index.as_ref(),
    );
    out
}

/// [`ladders`] of one file read as a stream (or several merged by time, `index` their
/// frame numbers), after the report's reading has noted what its findings name and
/// cite: the failed groups and their messages found on further readings
/// ([`streamed_failed_drawings`]), the texts on one more. `None` as there.
pub(super) fn streamed_ladders(
    args: &crate::cli::AnalyzeArgs,
    paths: &[String],
    index: Option<&crate::capture::merge::FrameIndex>,
    roles: &crate::calls::legs::Roles,
    cited: &mut super::watch::Cited,
) -> anyhow::Result<Option<HtmlLadders>> {
    let Some((drawn, failed)) = streamed_failed_drawings(args, paths, roles, cited, MAX_LADDERS)?
    else {
        return Ok(None);
    };
    let mut out = HtmlLadders {
        ladders: Vec::new(),
        failed,
    };
    let mut arrow_captures = Vec::new();
    for ladder in drawn {
        add_ladder(&mut out, &mut arrow_captures, ladder);
    }
    fill_texts(&mut out.ladders, &arrow_captures, paths, index);
    Ok(Some(out))
}

/// Adds a ladder drawn (with the capture of each arrow) to `out`, cut at
/// [`MAX_ARROWS`] arrows, its texts to be filled.
fn add_ladder(
    out: &mut HtmlLadders,
    arrow_captures: &mut Vec<Vec<usize>>,
    (mut ladder, mut caps): Drawn,
) {
    let omitted = ladder.arrows.len().saturating_sub(MAX_ARROWS);
    ladder.arrows.truncate(MAX_ARROWS);
    caps.truncate(MAX_ARROWS);
    out.ladders.push(HtmlLadder {
        texts: vec![None; ladder.arrows.len()],
        ladder,
        note: None,
        omitted,
    });
    arrow_captures.push(caps);
}

/// Where one message's text goes: (ladder, arrow).
type Slot = (usize, usize);

/// Reads each capture file again and puts the text of every message drawn into its slot.
/// Files read merged number their frames through the merged stream: `index` gives each
/// arrow's file and frame number there.
fn fill_texts(
    ladders: &mut [HtmlLadder],
    arrow_captures: &[Vec<usize>],
    captures: &[String],
    index: Option<&crate::capture::merge::FrameIndex>,
) {
    // (capture, frame, Call-ID) → the slots waiting for it, in ladder order: one frame can
    // carry several messages (TCP), of one call or of several.
    let mut wanted: foldhash::HashMap<(usize, u64, String), std::collections::VecDeque<Slot>> =
        foldhash::HashMap::default();
    for (li, (l, caps)) in ladders.iter().zip(arrow_captures).enumerate() {
        for (ai, (a, &cap)) in l.ladder.arrows.iter().zip(caps).enumerate() {
            let call_id = l.ladder.calls[a.call].call_id.clone();
            let (cap, frame) = match index.and_then(|i| i.locate(a.frame)) {
                Some(p) => (p.file, p.frame),
                None => (cap, a.frame),
            };
            wanted
                .entry((cap, frame, call_id))
                .or_default()
                .push_back((li, ai));
        }
    }
    let mut budget = MAX_TOTAL_TEXT;
    for (ci, path) in captures.iter().enumerate() {
        let frames: foldhash::HashSet<u64> = wanted
            .keys()
            .filter(|(c, _, _)| *c == ci)
            .map(|(_, f, _)| *f)
            .collect();
        if frames.is_empty() {
            continue;
        }
        let note = if crate::capture::read_once(path) && !crate::capture::input_kept(path) {
            let from = if path == "-" {
                "standard input".to_string()
            } else {
                crate::redact::shown_path(path)
            };
            Some(format!(
                "The full text of messages read from {from} is not shown: it cannot be read a \
                 second time. Give the capture as a file to see it."
            ))
        } else {
            let mut found: Vec<(Slot, String)> = Vec::new();
            let read = super::scan_raw(path, &mut |raw| {
                if !frames.contains(&raw.prov.frame) {
                    return;
                }
                let text = message_text(raw.data);
                let frame = raw.prov.frame;
                let Some(call_id) = raw.parse().and_then(|m| m.call_id().map(str::to_string))
                else {
                    return;
                };
                let slot = wanted
                    .get_mut(&(ci, frame, call_id))
                    .and_then(std::collections::VecDeque::pop_front);
                if let Some(slot) = slot
                    && text.len() <= budget
                {
                    budget -= text.len();
                    found.push((slot, text));
                }
            });
            for ((li, ai), text) in found {
                ladders[li].texts[ai] = Some(text);
            }
            read.err()
                .map(|e| format!("The full text of these messages could not be read again: {e}"))
        };
        if let Some(note) = note {
            for (l, caps) in ladders.iter_mut().zip(arrow_captures) {
                if caps.contains(&ci) && l.note.is_none() {
                    l.note = Some(note.clone());
                }
            }
        }
    }
}

/// A message's bytes as text (bytes that are not UTF-8 replaced), at most [`MAX_TEXT`]
/// bytes of it.
fn message_text(data: &[u8]) -> String {
    let cut = data.len() > MAX_TEXT;
    let mut text = String::from_utf8_lossy(&data[..data.len().min(MAX_TEXT)]).into_owned();
    if cut {
        text.push_str(&format!(
            "\n… ({} more bytes not shown)",
            data.len() - MAX_TEXT
        ));
    }
    text
}
