//! `analyze --annotate OUT.pcapng`: the analysed capture written again as pcapng with a
//! packet comment on every frame a finding cites.
//!
//! Input: the one capture `analyze` read and its findings (those the report shows).
//! Output: OUT, written by [`super::pcapng_out`] on a second read of the capture
//! (the findings are known only once the whole capture is read, and the comments go on
//! frames already past by then). Standard input cannot be read twice, and several
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

/// Writes `capture` to `out` as pcapng with the findings' comments.
pub(super) fn annotate(capture: &str, out: &str, findings: &[Finding]) -> anyhow::Result<()> {
    let mut comments: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for f in findings {
        for &frame in &f.frames {
            comments.entry(frame).or_default().push(comment(f));
        }
    }
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
