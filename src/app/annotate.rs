//! `analyze --annotate OUT.pcapng`: the analysed capture written again as pcapng with a
//! packet comment on every frame a finding cites.
//!
//! Input: the one capture `analyze` read and its findings (those the report shows), or
//! their comments gathered as a streamed report takes them ([`Comments`]). Output: OUT,
//! written by [`super::pcapng_out`] on a second read of the capture (the findings are
//! known only once the whole capture is read, and the comments go on frames already past
//! by then). Standard input cannot be read twice, and several
//! captures would need one output each: both are refused before anything is read.

use std::collections::BTreeMap;

use super::pcapng_out::{Input, Output, write_pcapng};
use crate::rules::Finding;

/// Refuses what `--annotate` cannot do, before the capture is read.
pub(super) fn check(captures: &[String], out: &str) -> anyhow::Result<()> {
    let [capture] = captures else {
        anyhow::bail!(
            "--annotate writes one annotated capture: give one capture file, not {} (run analyze once per file)",
            captures.len()
        );
    };
    anyhow::ensure!(
        capture != "-",
        "--annotate reads the capture a second time to write it (the findings are known only at its end), and standard input cannot be read twice: save the capture to a file first"
    );
    anyhow::ensure!(
        !same_file(capture, out),
        "--annotate {out}: that is the capture being analysed; write the annotated copy to another file"
    );
    Ok(())
}

pub(super) fn same_file(a: &str, b: &str) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The comment a finding puts on each frame it cites.
pub(super) fn comment(f: &Finding) -> String {
    format!("sipdiag {} {}: {}", f.id, f.slug, f.title)
}

/// The comments of findings as a streamed report takes them (in the order units are
/// judged), each with the finding's place in report order: on each frame, the findings
/// that cite it in report order, as [`annotate`] writes them of the report's findings.
/// Memory follows the frames the findings cite.
#[derive(Default)]
pub(super) struct Comments {
    by_frame: BTreeMap<u64, Vec<(u64, String)>>,
}

impl Comments {
    /// A finding of the report, at `key` in report order (`report_key`).
    pub(super) fn add(&mut self, f: &Finding, key: u64) {
        for &frame in &f.frames {
            let on = self.by_frame.entry(frame).or_default();
            on.push((key, comment(f)));
        }
    }

    fn in_report_order(self) -> BTreeMap<u64, Vec<String>> {
        (self.by_frame.into_iter())
            .map(|(frame, mut on)| {
                // Stable: findings at one place keep the order they came in, as the report.
                on.sort_by_key(|(key, _)| *key);
                (frame, on.into_iter().map(|(_, c)| c).collect())
            })
            .collect()
    }
}

/// Writes `capture` to `out` as pcapng with the comments of `findings` (in report order).
pub(super) fn annotate(capture: &str, out: &str, findings: &[Finding]) -> anyhow::Result<()> {
    let mut comments = Comments::default();
    for (place, f) in findings.iter().enumerate() {
        comments.add(f, place as u64);
    }
    annotate_gathered(capture, out, comments)
}

/// Writes `capture` to `out` as pcapng with the comments `gathered`.
pub(super) fn annotate_gathered(
    capture: &str,
    out: &str,
    gathered: Comments,
) -> anyhow::Result<()> {
    let comments = gathered.in_report_order();
    let input = Input {
        path: capture,
        keep: &mut |_| true,
        comments: &comments,
    };
    let written = write_pcapng(out, "--annotate", vec![input], Output::default())?;
    if written.comments_skipped > 0 {
        eprintln!(
            "sipdiag: {out}: {} comment(s) not written: their frames are Simple Packet Blocks, which take no comment, or were no longer in the capture",
            written.comments_skipped
        );
    }
    Ok(())
}
