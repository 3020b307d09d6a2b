//! `analyze --annotate OUT.pcapng`: the analysed capture written again as pcapng with a
//! packet comment on every frame a finding cites.
//!
//! Input: the one capture `analyze` read and its findings (those the report shows).
//! Output: OUT, written by [`crate::capture::rewrite`] on a second read of the capture
//! (the findings are known only once the whole capture is read, and the comments go on
//! frames already past by then). Standard input cannot be read twice, and several
//! captures would need one output each: both are refused before anything is read.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;

use crate::capture::rewrite::{self, Rewrite};
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

/// Writes `capture` to `out` as pcapng with the findings' comments. The file appears
/// whole or not at all: it is written beside `out` and renamed when complete.
pub(super) fn annotate(capture: &str, out: &str, findings: &[Finding]) -> anyhow::Result<()> {
    let mut comments: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for f in findings {
        for &frame in &f.frames {
            comments.entry(frame).or_default().push(comment(f));
        }
    }
    let partial = format!("{out}.partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("--annotate {out}: cannot create {partial}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    let done = rewrite::rewrite_capture(
        capture,
        &mut w,
        out,
        Rewrite::annotate(&mut |_| true, &comments),
    )
    .map_err(anyhow::Error::from)
    .and_then(|s| {
        w.flush().with_context(|| format!("{out}: cannot write"))?;
        Ok(s)
    });
    drop(w);
    let summary = match done {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("--annotate {out}: cannot rename {partial} to it"))?;
    if summary.comments_skipped > 0 {
        eprintln!(
            "sipdiag: {out}: {} comment(s) not written: their frames are Simple Packet Blocks, which take no comment, or were no longer in the capture",
            summary.comments_skipped
        );
    }
    Ok(())
}
