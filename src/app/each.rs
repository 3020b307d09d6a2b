//! `analyze --each`: every capture file analysed on its own, several at a time.
//!
//! Input: the command line's paths; a directory stands for every capture file in it and
//! below (see [`is_capture`]). Output: one report per file, in sorted path order whatever
//! the threads' timing, then the summary (`report::each`); the exit code is the worst
//! file's (2 when any file could not be analysed, else 1 when any has a finding at or
//! above `--fail-on`, else 0).
//!
//! Files are handed to worker threads one at a time; each worker renders its file's
//! report and sends it back, and this thread writes the reports in order as soon as every
//! earlier one is written. Only the rendered reports of files that finished ahead of an
//! earlier one wait in memory.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use super::{analyze_captures, fails, render_text, write_out};
use crate::cli::{AnalyzeArgs, ReportFormat};
use crate::report::each::{self as render, EachFile, EachRow};

/// Directories deeper than this below a path given are not walked (a guard against
/// pathological trees; symbolic links to directories are not followed at all).
const MAX_DEPTH: usize = 32;

/// What the command line's paths stand for: capture files to analyse, or a directory that
/// could not be read or held none (reported as a file that could not be analysed).
fn inputs(paths: &[String]) -> Vec<Result<String, (String, String)>> {
    let mut out = Vec::new();
    for p in paths {
        if p != "-" && Path::new(p).is_dir() {
            let mut found = Vec::new();
            match walk(Path::new(p), 0, &mut found) {
                Err(e) => out.push(Err((p.clone(), format!("{p}: cannot read the directory: {e}")))),
                Ok(()) if found.is_empty() => out.push(Err((
                    p.clone(),
                    format!("{p}: no capture file in this directory (.pcap, .pcapng, .cap, optionally .gz, or a file with a capture's magic bytes)"),
                ))),
                Ok(()) => out.extend(found.into_iter().map(Ok)),
            }
        } else {
            // A file named on the command line is analysed whatever it holds: if it is
            // not a capture, that is an error worth reporting.
            out.push(Ok(p.clone()));
        }
    }
    let key = |r: &Result<String, (String, String)>| match r {
        Ok(p) | Err((p, _)) => p.clone(),
    };
    out.sort_by_key(key);
    out.dedup_by_key(|r| key(r));
    out
}

/// The capture files under `dir`, recursively; hidden entries (a leading dot) skipped.
fn walk(dir: &Path, depth: usize, found: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `file_type` does not follow symbolic links: a link to a directory is skipped
        // (no loops), a link to a file is judged by its target.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, found)?;
            }
        } else if (kind.is_file() || (kind.is_symlink() && path.is_file())) && is_capture(&path) {
            found.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Whether a file in a walked directory is taken as a capture: by its name when it ends
/// in a capture extension (.pcap, .pcapng, .cap, each optionally .gz), so that a damaged
/// capture is reported rather than skipped; otherwise by its first bytes, the pcap or
/// pcapng magic, looked for inside gzip too (tcpdump's `-w trace` has no extension).
/// Everything else (notes, scripts, exports) is left out.
pub(super) fn is_capture(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if [".pcap", ".pcapng", ".cap"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        return true;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let n = read_up_to(file, &mut head);
    if head[..n].starts_with(&[0x1f, 0x8b]) {
        let Ok(file) = std::fs::File::open(path) else {
            return false;
        };
        let n = read_up_to(flate2::read::GzDecoder::new(file), &mut head);
        return n == 4 && capture_magic(head);
    }
    n == 4 && capture_magic(head)
}

fn read_up_to(mut r: impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// pcap (micro- and nanosecond, either byte order) and pcapng (its section header block).
fn capture_magic(head: [u8; 4]) -> bool {
    matches!(
        u32::from_le_bytes(head),
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0x0a0d_0d0a
    )
}

/// One file's part of the output, rendered on a worker thread.
struct Done {
    text: String,
    row: EachRow,
}

/// Analyses and renders one input.
fn run_one(args: &AnalyzeArgs, input: &Result<String, (String, String)>, color: bool) -> Done {
    let (path, outcome) = match input {
        Err((path, e)) => (path, Err(e.clone())),
        Ok(path) => {
            let captures = std::slice::from_ref(path);
            let outcome = match analyze_captures(args, captures, false) {
                Ok((Some(a), _)) => Ok(a),
                Ok((None, errors)) => Err(errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")),
                // Option errors were ruled out before any file was read; what is left
                // is about this file (e.g. no call matches the focus).
                Err(e) => Err(format!("{path}: {e:#}")),
            };
            (path, outcome)
        }
    };
    let (row, text) = match outcome {
        Ok(a) => {
            let row = EachRow::analysed(
                path,
                &a.analysis,
                u8::from(fails(&a.analysis, args.judge.fail_on)),
            );
            let text = match args.format {
                ReportFormat::Json => render::json_entry(&EachFile {
                    path: path.clone(),
                    report: Some(a.analysis),
                    error: None,
                })
                .unwrap_or_default(),
                ReportFormat::Markdown => render::markdown_section(
                    path,
                    &render_text(&a, args.format, color, args.verbose),
                ),
                ReportFormat::Table | ReportFormat::Html => {
                    render::table_header(path)
                        + &render_text(&a, args.format, color, args.verbose)
                        + "\n"
                }
            };
            (row, text)
        }
        Err(e) => {
            eprintln!("sipdiag: {e}");
            let text = match args.format {
                ReportFormat::Json => render::json_entry(&EachFile {
                    path: path.clone(),
                    report: None,
                    error: Some(e.clone()),
                })
                .unwrap_or_default(),
                ReportFormat::Markdown => format!("## `{path}`\n\nNot analysed: {e}\n\n"),
                ReportFormat::Table | ReportFormat::Html => {
                    render::table_header(path) + &format!("not analysed: {e}\n\n")
                }
            };
            (EachRow::failed(path, e), text)
        }
    };
    Done { text, row }
}

/// `analyze --each`.
pub(super) fn each(args: &AnalyzeArgs, color: bool) -> anyhow::Result<u8> {
    // Options are checked once, before any file: a bad flag is the run's error (exit 2),
    // not every file's.
    anyhow::ensure!(
        args.format != ReportFormat::Html && args.output.is_none() && args.annotate.is_none(),
        "--each writes its reports one after another to standard output as table, json or markdown; for an HTML page, -o or --annotate, run analyze once per capture"
    );
    super::flow::focus(&args.focus)?;
    analyze_captures(args, &[], false)?;
    anyhow::ensure!(
        !args.captures.iter().any(|c| c == "-"),
        "--each analyses files and directories; standard input (-) is one capture: analyse it without --each"
    );
    let inputs = inputs(&args.captures);
    super::progress::silence();
    // Each analysis reads on one thread and builds calls on a second for part of its
    // run; one file per core keeps the cores busy without crowding them.
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(inputs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Done)>();
    let mut rows = Vec::with_capacity(inputs.len());
    let written = std::thread::scope(|s| -> anyhow::Result<()> {
        for w in 0..workers {
            let tx = tx.clone();
            let (next, inputs) = (&next, &inputs);
            std::thread::Builder::new()
                .name(format!("sipdiag-each-{w}"))
                .spawn_scoped(s, move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { return };
                        if tx.send((i, run_one(args, input, color))).is_err() {
                            return;
                        }
                    }
                })
                .context("starting a worker thread")?;
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut first = true;
        if args.format == ReportFormat::Json {
            write_out(&render::json_start())?;
        }
        for (i, done) in rx {
            waiting.insert(i, done);
            // Written in path order: every report whose predecessors are all written.
            while let Some(done) = waiting.remove(&rows.len()) {
                if args.format == ReportFormat::Json && !first {
                    write_out(",\n")?;
                }
                first = false;
                write_out(&done.text)?;
                rows.push(done.row);
            }
        }
        Ok(())
    });
    written.context("writing the report")?;
    let width = crate::report::terminal_width();
    let end = match args.format {
        ReportFormat::Json => render::json_end(&rows)?,
        ReportFormat::Markdown => render::summary_markdown(&rows),
        ReportFormat::Table | ReportFormat::Html => render::summary_table(&rows, width),
    };
    write_out(&end).context("writing the report")?;
    Ok(rows.iter().map(|r| r.exit_code).max().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_are_told_by_magic_or_name() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        // By magic, whatever the name.
        assert!(is_capture(&write("trace", &[0xd4, 0xc3, 0xb2, 0xa1, 0, 0])));
        assert!(is_capture(&write("ng.dump", &[0x0a, 0x0d, 0x0d, 0x0a])));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &[0x4d, 0x3c, 0xb2, 0xa1, 1, 2]).unwrap();
        assert!(is_capture(&write("trace.z", &gz.finish().unwrap())));
        // By name, whatever the bytes (a damaged capture is reported, not skipped).
        assert!(is_capture(&write("bad.PCAP", b"garbage")));
        assert!(is_capture(&write("bad.cap.gz", b"garbage")));
        // Neither.
        assert!(!is_capture(&write("README.md", b"# notes")));
        assert!(!is_capture(&write("short", &[0xd4])));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"text").unwrap();
        assert!(!is_capture(&write("notes.gz", &gz.finish().unwrap())));
    }

    #[test]
    fn directories_are_walked_sorted_and_empty_ones_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/deeper")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        for p in [
            "b/deeper/z.pcap",
            "b/a.pcapng",
            "a.cap",
            ".hidden/x.pcap",
            "notes.txt",
        ] {
            std::fs::write(root.join(p), b"x").unwrap();
        }
        let s = |p: &str| root.join(p).to_string_lossy().into_owned();
        let got = inputs(&[s(""), s("empty"), s("a.cap")]);
        let names: Vec<String> = got
            .iter()
            .map(|r| match r {
                Ok(p) => format!("ok {}", p.trim_start_matches(&s(""))),
                Err((p, _)) => format!("err {}", p.trim_start_matches(&s(""))),
            })
            .collect();
        assert_eq!(
            names,
            [
                "ok a.cap",
                "ok b/a.pcapng",
                "ok b/deeper/z.pcap",
                "err empty",
            ]
        );
    }
}
