//! `calls`: one row per call. Calls retire as they end ([`Retiring`]) and only their rows
//! stay (with a focus, the rows of the calls it selects, found first as `analyze` finds
//! them, as a stream). Several captures are read merged by time as `analyze` reads them
//! (`merged::scan_captures`): a call seen at two capture points is one call, its
//! messages counted once, its frames numbered through the merged stream. When the focus
//! cannot be found as a stream (standard input among several files, a file that cannot
//! be read), or when a call was retired too early (see [`Retiring::reopened`]; the
//! captures are then read again) the whole [`CallSet`] is built. Standard input without a focus is read once, not copied: there such a call
//! keeps its two rows. JSON rows are written to a spool file as the calls retire
//! ([`CallsSpool`]) and copied behind the capture reports at the end.

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::focus::CallIds;
use crate::calls::legs::{infer_roles, link_legs};
use crate::calls::retire::Retiring;
use crate::cli::{Format, ReadArgs};
use crate::report::call_listing::{self, CallRow};
use crate::report::calls_spool::CallsSpool;
use crate::sip::{CaptureReport, SipMessage};

use super::merged::{own_number, scan_captures};
use super::{Sink, finish, flow, write_out};

/// Rows of retired calls, with their positions in order of the calls' first messages:
/// kept (a drawn table needs them all for its column widths), or written to a spool as
/// they come (JSON; the table's plain columns past [`crate::report::TABLE_ROWS`] calls).
#[derive(Default)]
struct Rows {
    set: Retiring,
    rows: Vec<(u64, CallRow)>,
    spool: Option<CallsSpool>,
    /// The table is asked for (`Some`, with whether Call-IDs are whole): past
    /// [`crate::report::TABLE_ROWS`] rows it goes to a spool of plain columns.
    table: Option<bool>,
    /// Writing the spool failed: the run falls back to the whole capture.
    spool_error: Option<std::io::Error>,
    /// With a focus: the calls it selects (by key); the others get no row.
    only: Option<CallIds>,
}

impl Rows {
    fn keep(&mut self, o: u64, c: &crate::calls::Call) {
        if self
            .only
            .as_ref()
            .is_some_and(|ids| !ids.contains(&c.call_id))
        {
            return;
        }
        let row = CallRow::from_call(c);
        if self.spool.is_none()
            && self.spool_error.is_none()
            && let Some(whole_ids) = self.table
            && self.rows.len() >= crate::report::TABLE_ROWS
        {
            // Too many calls for a drawn table: plain columns sized by the rows so far
            // (in call order), which go to the spool ahead of this one.
            self.rows.sort_unstable_by_key(|(o, _)| *o);
            let columns =
                call_listing::CallLines::sized_by(self.rows.iter().map(|(_, r)| r), whole_ids);
            match CallsSpool::lines(columns) {
                Ok(mut spool) => {
                    for (o, r) in std::mem::take(&mut self.rows) {
                        if let Err(e) = spool.push(o, &r) {
                            self.spool_error = Some(e);
                            break;
                        }
                    }
                    if self.spool_error.is_none() {
                        self.spool = Some(spool);
                    }
                }
                Err(e) => self.spool_error = Some(e),
            }
        }
        match self.spool.as_mut() {
            Some(s) => {
                if let Err(e) = s.push(o, &row) {
                    self.spool = None;
                    self.spool_error = Some(e);
                }
            }
            None => self.rows.push((o, row)),
        }
    }
}

impl Sink for Rows {
    fn message(&mut self, m: SipMessage) {
        self.set.add(m);
        let retired: Vec<_> = self.set.take_retired().collect();
        for (o, c) in retired {
            self.keep(o, &c);
        }
    }
}

pub(super) fn calls(args: &ReadArgs) -> anyhow::Result<u8> {
    let focus = flow::focus(&args.focus)?;
    // A focus: the calls it selects, found as `analyze` finds them, as a stream; then
    // their rows, as without a focus.
    let only = super::watch::focused_calls(&Default::default(), &args.focus, &args.captures)?;
    // Several files are read merged by time, as `analyze` reads them: a call seen in
    // two of them is one call, its frames numbered through the merged stream.
    let streamed = if focus.is_empty() || only.is_some() {
        let mut sink = Rows {
            only,
            // JSON rows go to disk as the calls retire (the table needs them all).
            spool: (args.format == Format::Json)
                .then(CallsSpool::new)
                .and_then(Result::ok),
            table: (args.format == Format::Table).then_some(args.verbose),
            ..Rows::default()
        };
        // A row shows no SDP.
        sink.set.without_sdp();
        let (mut reports, errors, index) = scan_captures(&args.captures, &mut sink, None);
        let rest: Vec<_> = sink.set.finish().collect();
        for (o, c) in rest {
            sink.keep(o, &c);
        }
        let own = |n: u64| own_number(index.as_ref(), n);
        let what = "retired before they ended";
        (sink.set.let_go).report(&mut reports, &args.captures, what, &own);
        (sink.set.message_cap).report(&mut reports, &args.captures, &own);
        // A call retired too early (a message came after it had ended) is read again
        // whole, when the capture can be read twice; so is a capture whose spool could
        // not be written.
        let usable = (sink.set.reopened() == 0
            || args.captures.iter().any(|p| crate::capture::read_once(p)))
            && sink.spool_error.is_none();
        if usable
            && !reports.is_empty()
            && let Some(spool) = sink.spool.take()
        {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            spool
                .finish(&reports, &mut out)
                .context("writing the report")?;
            if args.format == Format::Table {
                numbering(index.as_ref(), &mut out)?;
            }
            return finish(errors);
        }
        sink.rows.sort_unstable_by_key(|(o, _)| *o);
        let rows: Vec<CallRow> = sink.rows.into_iter().map(|(_, r)| r).collect();
        (usable && sink.spool.is_none()).then_some((reports, errors, rows, index))
    } else {
        None
    };
    let (reports, errors, rows, index) = if let Some(done) = streamed {
        done
    } else {
        let mut set = CallSet::default();
        let (mut reports, errors, index) = scan_captures(&args.captures, &mut set, None);
        let own = |n: u64| own_number(index.as_ref(), n);
        set.finish_numbered(&mut reports, &args.captures, &own);
        let keep = if focus.is_empty() || reports.is_empty() {
            vec![true; set.calls.len()]
        } else {
            let roles = infer_roles(&set.calls, &[], &[]);
            let legs = link_legs(&set.calls, &roles);
            let keep = focus.select(&set.calls, &legs);
            flow::check_selection(&focus, &keep)?;
            keep
        };
        let rows: Vec<CallRow> = set
            .calls
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| CallRow::from_call(c))
            .collect();
        // The process ends soon; freeing call by call would cost more than it is worth.
        std::mem::forget(set);
        (reports, errors, rows, index)
    };
    if reports.is_empty() {
        return finish(errors);
    }
    write_rows(args, &reports, &rows)?;
    if args.format == Format::Table {
        numbering(index.as_ref(), &mut std::io::stdout().lock())?;
    }
    // As in `analyze`: the process ends now, freeing row by row would cost more.
    std::mem::forget(rows);
    finish(errors)
}

fn write_rows(args: &ReadArgs, reports: &[CaptureReport], rows: &[CallRow]) -> anyhow::Result<()> {
    let text = match args.format {
        Format::Json => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            return call_listing::write_calls_json(out, reports, rows)
                .context("writing the report");
        }
        Format::Table if rows.len() > crate::report::TABLE_ROWS => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            return call_listing::write_call_lines(out, reports, rows, args.verbose)
                .context("writing the report");
        }
        Format::Table => {
            let width = crate::report::terminal_width();
            crate::report::wrap_lines(
                &call_listing::calls_table(reports, rows, width, args.verbose),
                width,
            )
        }
    };
    write_out(&text).context("writing the report")
}

/// After a table of several files' calls or media: how their frames are numbered (through
/// the files merged by time, as `analyze` numbers them); nothing for one file.
pub(super) fn numbering(
    index: Option<&crate::capture::merge::FrameIndex>,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let Some(index) = index.and_then(|i| i.several()) else {
        return Ok(());
    };
    let width = crate::report::terminal_width();
    let text = crate::report::wrap_lines(&crate::report::cited::numbering(index), width);
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the report")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic pcap at `path` cut into files of `per` records each, as `editcap -c`
    /// cuts it, in `dir`.
    fn rotated(path: &str, per: usize, dir: &std::path::Path) -> Vec<String> {
        let data = std::fs::read(path).unwrap();
        let (header, mut off) = (&data[..24], 24);
        let mut files = Vec::new();
        while off + 16 <= data.len() {
            let mut file = header.to_vec();
            for _ in 0..per {
                let Some(len) = data.get(off + 8..off + 12) else {
                    break;
                };
                let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
                file.extend_from_slice(&data[off..off + 16 + len]);
                off += 16 + len;
            }
            let name = dir.join(format!("part-{}.pcap", files.len()));
            std::fs::write(&name, file).unwrap();
            files.push(name.to_string_lossy().into_owned());
        }
        files
    }

    /// The rows of every call of `paths` (each once, in order) and the most calls held at
    /// once while they were read.
    fn rows_of(paths: &[String]) -> (Vec<CallRow>, usize) {
        let mut sink = Rows::default();
        let (reports, errors, index) = scan_captures(paths, &mut sink, None);
        assert_eq!((reports.len(), errors.len()), (paths.len(), 0));
        assert_eq!(index.is_some(), paths.len() > 1);
        let rest: Vec<_> = sink.set.finish().collect();
        for (o, c) in rest {
            sink.keep(o, &c);
        }
        sink.rows.sort_unstable_by_key(|(o, _)| *o);
        let rows = sink.rows.into_iter().map(|(_, r)| r).collect();
        (rows, sink.set.peak_live())
    }

    /// Several files given together are read merged by time as one stream: each call
    /// retires as it ends, no more of them held at once than with the file alone, and
    /// the rows are the file's.
    #[test]
    fn the_calls_of_a_rotated_set_retire_as_they_end() {
        let whole = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/followme/busy-site.pcap"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut parts = rotated(whole, 40, dir.path());
        assert!(parts.len() >= 20);
        parts.reverse();
        let (want, peak) = rows_of(&[whole.to_string()]);
        let (got, parts_peak) = rows_of(&parts);
        assert_eq!(want.len(), 10);
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            serde_json::to_value(&want).unwrap()
        );
        assert!(peak < want.len(), "{peak}");
        assert_eq!(parts_peak, peak);
    }
}
