//! The ladders of the failed calls that `analyze --flow` appends to its report and the
//! HTML page draws: from every call held, or, of one file read as a stream, found and
//! drawn on further readings of the file.

use anyhow::Context;

use crate::calls::legs::{LegKind, Roles};
use crate::report::flow::Ladder;

use super::{Diagnosis, Drawing, Recorder, failed_groups, flags, ladder, ladder_with_captures};

/// At most this many ladders follow `analyze --flow`'s report.
const MAX_LADDERS: usize = 5;

/// The ladders `analyze --flow` appends: one per failed call among those kept, with the
/// legs linked to it (a call fails with a final INVITE status of 300 or more, no final
/// response, or a finding about it).
pub(in crate::app) fn failed_call_ladders(
    rec: &Recorder,
    d: &Diagnosis,
    keep: &[bool],
    captures: &[String],
    ports: &crate::cli::MediaPortArgs,
    markdown: bool,
) -> String {
    let groups = failed_groups(d, keep);
    let calls = d.calls.len();
    let softphone_port = ports.softphone_port.unwrap_or(2230);
    let drawn = groups.iter().take(MAX_LADDERS).map(|group| {
        let drawing = Drawing::of(d, &flags(group, calls));
        ladder(rec, &drawing, captures, softphone_port)
    });
    failed_ladders_text(drawn, groups.len(), markdown)
}

/// The ladders of the first failed groups (`drawn`) under their headings, of `total`.
fn failed_ladders_text(
    drawn: impl Iterator<Item = Ladder>,
    total: usize,
    markdown: bool,
) -> String {
    let width = crate::report::terminal_width();
    let mut out = String::new();
    for (n, l) in drawn.enumerate() {
        if markdown {
            out.push_str(&format!("\n### Call flow {} of {total}\n\n", n + 1));
            out.push_str(&l.markdown(width));
        } else {
            out.push_str(&format!("\nCall flow {} of {total} (failed):\n", n + 1));
            out.push_str(&l.text(width));
        }
    }
    if total > MAX_LADDERS {
        out.push_str(&format!(
            "\n…and {} more failed calls: `sipdiag flow --call-id ID` draws any of them.\n",
            total - MAX_LADDERS
        ));
    }
    out
}

/// [`failed_call_ladders`] of one file read as a stream (or several, merged by time),
/// after the report's reading has noted what its findings name and cite (`cited`; see
/// `watch::ladders`): the files read again without rules for the failed groups, then for
/// the messages of those drawn.
/// `None` when the calls are to be held instead (a clock that jumps, no temporary
/// directory).
pub(in crate::app) fn streamed_failed_ladders(
    args: &crate::cli::AnalyzeArgs,
    paths: &[String],
    roles: &Roles,
    cited: &mut crate::app::watch::Cited,
) -> anyhow::Result<Option<String>> {
    let Some((drawn, total)) = streamed_failed_drawings(args, paths, roles, cited, MAX_LADDERS)?
    else {
        return Ok(None);
    };
    if drawn.is_empty() {
        return Ok(Some(String::new()));
    }
    let markdown = args.format == crate::cli::ReportFormat::Markdown;
    let drawn = drawn.into_iter().map(|(ladder, _)| ladder);
    Ok(Some(failed_ladders_text(drawn, total, markdown)))
}

/// A ladder drawn, with the index of the capture file of each arrow.
pub(in crate::app) type Drawn = (Ladder, Vec<usize>);

/// The first `max` failed groups of one file (or several merged) read as a stream, drawn (each arrow with
/// the index of its capture file, as [`ladder_with_captures`] gives it), and how many
/// groups failed: see [`streamed_failed_ladders`]. `None` as there.
pub(in crate::app) fn streamed_failed_drawings(
    args: &crate::cli::AnalyzeArgs,
    paths: &[String],
    roles: &Roles,
    cited: &mut crate::app::watch::Cited,
    max: usize,
) -> anyhow::Result<Option<(Vec<Drawn>, usize)>> {
    use crate::app::watch::{FailedGroups, LadderPass};
    let found = std::sync::Arc::new(std::sync::Mutex::new(FailedGroups::new(
        cited.calls.clone(),
        max,
    )));
    let file = crate::app::watch::FileOptions {
        ladders: Some(LadderPass::Groups(std::sync::Arc::clone(&found))),
        ..crate::app::watch::FileOptions::of(args)
    };
    let layout = crate::report::analysis_spool::Layout::Selection;
    let Some((Some(_), _)) = crate::app::watch::analyze_files(&file, paths, layout)? else {
        return Ok(None);
    };
    let found = found
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (groups, total) = found.groups();
    if groups.is_empty() {
        return Ok(Some((Vec::new(), total)));
    }
    let ids = groups.iter().flat_map(|g| g.iter().map(|(id, _)| id));
    let mut rec = Recorder::only(ids.collect());
    // The same files again: what they could not read, the first reading reported.
    let merged = paths.len() > 1;
    crate::app::scan_again(paths, &mut rec);
    let softphone_port = args.ports.softphone_port.unwrap_or(2230);
    let ids: Vec<Vec<&str>> = (groups.iter())
        .map(|group| group.iter().map(|(id, _)| id.as_str()).collect())
        .collect();
    // Findings name their file as the report shows it (`--redact`: `capture-N`); files
    // read merged cite frames of the merged stream, which name none.
    let shown = match paths {
        [path] => crate::redact::shown_path(path),
        _ => String::new(),
    };
    let mut cited = (cited.frames_of(&ids, &shown))
        .context("cannot read back the frames the findings cite")?
        .into_iter();
    let drawn = groups.iter().map(|group| {
        let legs: foldhash::HashMap<&str, LegKind> =
            group.iter().map(|(id, k)| (id.as_str(), *k)).collect();
        let drawing = Drawing {
            cited: cited.next().unwrap_or_default(),
            legs,
            roles,
            merged,
        };
        ladder_with_captures(&rec, &drawing, paths, softphone_port)
    });
    Ok(Some((drawn.collect(), total)))
}
