//! `analyze` over several capture files read merged: frame citations by file.
//!
//! Input: the report, whose frame numbers count through the merged stream (as `mergecap`
//! numbers it), and the [`FrameIndex`] of the read. Output: JSON whose findings cite
//! `"frames":[{"capture":…,"frame":N}, …]` (every sighting of each frame: both capture
//! points for a packet seen at both; the file of a rotated set it is in), and, for the
//! table and markdown, a legend from each cited frame to its files and frame numbers.
//! A single file is not read merged: its JSON keeps the plain numbers of schema_version 2.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::analysis::Analysis;
use crate::capture::merge::FrameIndex;

/// Frames listed in the legend at most.
const LEGEND_MAX: usize = 60;

/// The `analyze` JSON of files read merged, its findings' frames cited by file.
pub fn write_json(
    a: &Analysis,
    index: &FrameIndex,
    out: impl std::io::Write,
) -> std::io::Result<()> {
    let mut v = serde_json::to_value(a)?;
    cite_findings(&mut v, index);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &v)?;
    out.write_all(b"\n")?;
    std::io::Write::flush(&mut out)
}

/// The `frames` of each finding in `v["findings"]` cited by file and frame number.
pub fn cite_findings(v: &mut serde_json::Value, index: &FrameIndex) {
    let Some(findings) = v.get_mut("findings").and_then(|f| f.as_array_mut()) else {
        return;
    };
    for f in findings {
        cite_frames(f, index);
    }
}

/// A finding's `frames` (numbers counted through the files) cited by file and frame
/// number.
pub fn cite_frames(finding: &mut serde_json::Value, index: &FrameIndex) {
    let Some(frames) = finding.get_mut("frames") else {
        return;
    };
    let cited: Vec<serde_json::Value> = frames
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_u64)
        .flat_map(|n| index.cited_frames(n))
        .map(|c| serde_json::json!({"capture": c.capture, "frame": c.frame}))
        .collect();
    *frames = serde_json::Value::Array(cited);
}

use std::io::Write as _;

/// How the frames of several files are numbered (a line after an empty one): through the
/// files merged in time order, or read one after the other, and the `mergecap` command
/// that numbers them alike. A file no frame was read from (it could not be read, or holds
/// none) numbers nothing: it is left out.
pub fn numbering(index: &FrameIndex) -> String {
    let read: Vec<&str> = (index.paths().iter().zip(index.point_of()))
        .filter(|(_, point)| point.is_some())
        .map(|(path, _)| path.as_str())
        .collect();
    // Inside the command's code span: plain paths.
    let files = read.join(" ");
    if let [only] = read[..] {
        format!("\nFrames are numbered as in {only}, the only file frames were read from.\n")
    } else if index.is_concatenated() {
        format!(
            "\nFrames are numbered through the {} files read one after the other, as `mergecap -a -w all.pcapng {files}` numbers them.\n",
            read.len(),
        )
    } else {
        format!(
            "\nFrames are numbered through the {} files merged in time order, as `mergecap -w merged.pcapng {files}` numbers them; {} capture point(s), {} packet(s) seen at two points counted once.\n",
            read.len(),
            index.points(),
            index.duplicates
        )
    }
}

/// Where the frames the findings a text report shows cite came from (each group's first
/// instances, every one when `verbose`): one line per frame with every file and frame
/// number it was seen at.
pub fn legend(a: &Analysis, index: &FrameIndex, markdown: bool, verbose: bool) -> String {
    let shown = if verbose {
        usize::MAX
    } else {
        super::analysis::INSTANCES_SHOWN
    };
    let mut listed = vec![a.groups.is_empty(); a.findings.len()];
    for g in &a.groups {
        for &i in g.findings.iter().take(shown) {
            if let Some(l) = listed.get_mut(i) {
                *l = true;
            }
        }
    }
    let frames: BTreeSet<u64> = (a.findings.iter().zip(&listed))
        .filter(|(_, l)| **l)
        .flat_map(|(f, _)| {
            f.finding
                .frames
                .iter()
                .copied()
                .chain(f.finding.proof.iter().map(|q| q.frame))
        })
        .collect();
    let mut out = numbering(index);
    if frames.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Frames cited, by file:");
    if markdown {
        out.push('\n');
    }
    for n in frames.iter().take(LEGEND_MAX) {
        let at: Vec<String> = index
            .cited(*n)
            .iter()
            .map(|p| {
                let path = index.paths().get(p.file).map_or("?", String::as_str);
                if markdown {
                    format!("`{path}` frame {}", p.frame)
                } else {
                    format!("{path} frame {}", p.frame)
                }
            })
            .collect();
        let _ = if markdown {
            writeln!(out, "- frame {n}: {}", at.join(", "))
        } else {
            writeln!(out, "  frame {n}: {}", at.join(", "))
        };
    }
    if frames.len() > LEGEND_MAX {
        let _ = writeln!(
            out,
            "  … and {} more (JSON cites them all)",
            frames.len() - LEGEND_MAX
        );
    }
    out
}
