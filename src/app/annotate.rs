//! `analyze --annotate OUT.pcapng`: the analysed capture written again as pcapng with a
//! packet comment on every frame a finding cites.
//!
//! Input: the one capture `analyze` read and its findings (those the report shows), or
//! their comments gathered as a streamed report takes them ([`Comments`]). Output: OUT,
//! written by [`super::pcapng_out`] on a second read of the capture (the findings are
//! known only once the whole capture is read, and the comments go on frames already past
//! by then): standard input or a named pipe is read again from its copy
//! (`capture::keep_input`), and refused before anything is read when it cannot be kept. Several captures would need
//! one output each: refused too.

use std::io::{self, Read, Seek, SeekFrom, Write};

use anyhow::Context;

use super::pcapng_out::{Input, Output, write_pcapng};
use crate::capture::rewrite::FrameComments;
use crate::report::ordered::Ordered;
use crate::report::spool::SpoolFile;
use crate::rules::Finding;

/// Refuses what `--annotate` cannot do, before the capture is read.
pub(super) fn check(captures: &[String], out: &str) -> anyhow::Result<()> {
    let [capture] = captures else {
        anyhow::bail!(
            "--annotate writes one annotated capture: give one capture file, not {} (run analyze once per file)",
            captures.len()
        );
    };
    // The findings are known only at the end of the capture: it is read again to write.
    super::read_again(captures, "--annotate")?;
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
/// They wait in frame order in bounded memory (past [`crate::report::ordered`]'s budget,
/// in sorted runs on disk), however many frames the findings cite.
#[derive(Default)]
pub(super) struct Comments {
    /// By frame: the frame, the report key and the comment (see [`Comments::add`]).
    by_frame: Ordered,
}

impl Comments {
    /// Held in memory up to `bytes` (the rest on disk).
    #[cfg(test)]
    fn with_memory(bytes: usize) -> Self {
        Comments {
            by_frame: Ordered::with_memory(bytes),
        }
    }

    /// A finding of the report, at `key` in report order (`report_key`).
    pub(super) fn add(&mut self, f: &Finding, key: u64) -> io::Result<()> {
        let text = comment(f);
        for &frame in &f.frames {
            self.add_one(frame, key, &text)?;
        }
        Ok(())
    }

    fn add_one(&mut self, frame: u64, key: u64, text: &str) -> io::Result<()> {
        let mut row = Vec::with_capacity(16 + text.len());
        row.extend_from_slice(&frame.to_le_bytes());
        row.extend_from_slice(&key.to_le_bytes());
        row.extend_from_slice(text.as_bytes());
        self.by_frame.push(frame, row)
    }

    /// The comments in frame order, in a file read back as the frames are written.
    fn in_frame_order(mut self) -> io::Result<FromSpool> {
        let mut spool = SpoolFile::new("annotate")?;
        let w = spool.append()?;
        self.by_frame.release(u64::MAX, &mut |row| {
            w.write_all(&(row.len() as u32).to_le_bytes())?;
            w.write_all(row)
        })?;
        let mut file = spool.file()?.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(FromSpool {
            rows: io::BufReader::with_capacity(1 << 16, file),
            _spool: spool,
            next: None,
            frame: None,
            here: Vec::new(),
            error: None,
        })
    }
}

/// The comments of [`Comments`], read back frame by frame as the capture is written.
struct FromSpool {
    /// Declared before the spool: the file is closed before the spool removes it.
    rows: io::BufReader<std::fs::File>,
    _spool: SpoolFile,
    /// The next row read and not yet handed out: (frame, report key, comment).
    next: Option<(u64, u64, String)>,
    /// The frame last asked for, and its comments in report order.
    frame: Option<u64>,
    here: Vec<String>,
    /// The first error reading the rows back.
    error: Option<io::Error>,
}

impl FromSpool {
    /// The next row, read ahead; `None` at the end or after an error.
    fn peek(&mut self) -> Option<&(u64, u64, String)> {
        if self.next.is_none() && self.error.is_none() {
            match read_row(&mut self.rows) {
                Ok(row) => self.next = row,
                Err(e) => self.error = Some(e),
            }
        }
        self.next.as_ref()
    }
}

/// A row as [`Comments::in_frame_order`] wrote it; `None` at the end of the file.
fn read_row(r: &mut impl Read) -> io::Result<Option<(u64, u64, String)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut row = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut row)?;
    let (Some(frame), Some(key)) = (row.get(..8), row.get(8..16)) else {
        return Err(io::Error::other("a comment row is short"));
    };
    let frame = u64::from_le_bytes(frame.try_into().unwrap_or_default());
    let key = u64::from_le_bytes(key.try_into().unwrap_or_default());
    Ok(Some((
        frame,
        key,
        String::from_utf8_lossy(&row[16..]).into_owned(),
    )))
}

impl FrameComments for FromSpool {
    fn of(&mut self, frame: u64) -> &[String] {
        if self.frame != Some(frame) {
            self.frame = Some(frame);
            let mut on: Vec<(u64, String)> = Vec::new();
            // Rows of frames never asked for (not in the capture as read) are passed by.
            while let Some(&(f, _, _)) = self.peek() {
                if f > frame {
                    break;
                }
                if let Some((f, key, text)) = self.next.take()
                    && f == frame
                {
                    on.push((key, text));
                }
            }
            // Stable: findings at one place keep the order they came in, as the report.
            on.sort_by_key(|(key, _)| *key);
            self.here = on.into_iter().map(|(_, text)| text).collect();
        }
        &self.here
    }

    fn after(&mut self, frame: u64) -> u64 {
        let mut n = 0;
        while let Some(&(f, _, _)) = self.peek() {
            n += u64::from(f > frame);
            self.next = None;
        }
        n
    }
}

/// Writes `capture` to `out` as pcapng with the comments of `findings` (in report order).
pub(super) fn annotate(capture: &str, out: &str, findings: &[Finding]) -> anyhow::Result<()> {
    let mut comments = Comments::default();
    for (place, f) in findings.iter().enumerate() {
        (comments.add(f, place as u64))
            .with_context(|| format!("--annotate {out}: cannot keep the comments"))?;
    }
    annotate_gathered(capture, out, comments)
}

/// Writes `capture` to `out` as pcapng with the comments `gathered`.
pub(super) fn annotate_gathered(
    capture: &str,
    out: &str,
    gathered: Comments,
) -> anyhow::Result<()> {
    let mut comments = gathered
        .in_frame_order()
        .with_context(|| format!("--annotate {out}: cannot keep the comments"))?;
    let input = Input {
        path: capture,
        keep: &mut |_| true,
        comments: Box::new(&mut comments),
    };
    let written = write_pcapng(out, "--annotate", vec![input], Output::default())?;
    if let Some(e) = comments.error.take() {
        return Err(anyhow::Error::new(e))
            .with_context(|| format!("--annotate {out}: cannot read the comments back"));
    }
    if written.comments_skipped > 0 {
        eprintln!(
            "sipdiag: {out}: {} comment(s) not written: their frames are Simple Packet Blocks, which take no comment, or were no longer in the capture",
            written.comments_skipped
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Comments on frames in a scattered order, several on a frame with equal and unequal
    /// keys: what the spool hands back, frame by frame, is what a map of every comment
    /// sorted by key gives, whether the rows stayed in memory or went to runs on disk.
    #[test]
    fn comments_come_back_by_frame_in_report_order_from_memory_and_from_disk() {
        // Each frame gets three findings, in the order opposite to their keys, each
        // citing it twice (the two comments of a key stay in the order they came).
        let rows: Vec<(u64, u64, String)> = (0..3000u64)
            .flat_map(|i| {
                let frame = (i * 7919) % 1000 + 1;
                let key = 2 - i / 1000;
                [
                    (frame, key, format!("comment {i} on frame {frame}")),
                    (frame, key, format!("comment {i} on frame {frame}, again")),
                ]
            })
            .collect();
        let mut expected: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
        for (frame, key, text) in &rows {
            (expected.entry(*frame).or_default()).push((*key, text.clone()));
        }
        let expected: BTreeMap<u64, Vec<String>> = (expected.into_iter())
            .map(|(frame, mut on)| {
                on.sort_by_key(|(key, _)| *key);
                (frame, on.into_iter().map(|(_, t)| t).collect())
            })
            .collect();
        for memory in [1 << 20, 512] {
            let mut comments = Comments::with_memory(memory);
            for (frame, key, text) in &rows {
                comments.add_one(*frame, *key, text).unwrap();
            }
            let mut back = comments.in_frame_order().unwrap();
            // Frames 1..=900 read (each asked twice, as the rewrite does), some not
            // asked for at all (as frames the capture no longer has).
            for frame in (1..=900).filter(|f| f % 10 != 3) {
                let want = expected.get(&frame).map_or(&[][..], Vec::as_slice);
                assert_eq!(back.of(frame), want, "frame {frame}, memory {memory}");
                assert_eq!(back.of(frame), want, "frame {frame} again");
            }
            let later: usize = expected.range(901..).map(|(_, c)| c.len()).sum();
            assert!(later > 0);
            assert_eq!(back.after(900), later as u64, "memory {memory}");
            assert!(back.error.is_none());
        }
    }
}
