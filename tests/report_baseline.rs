//! The reports of `analyze` (JSON, markdown, table, markdown with ladders, HTML; read as a
//! stream and holding every call, `--in-memory`), `calls` (JSON, table) and `media` (JSON,
//! table) on every capture under `testdata/` and every public
//! corpus capture, against a committed table of digests.
//!
//! `testdata/oracle/reports.tsv` holds, per capture and report, the exit code, the length
//! of standard output and its FNV-1a 64-bit digest (the version sipdiag names is replaced
//! by `[VERSION]` first, as in the snapshots). It pins the exact bytes: a change in
//! how calls are kept or retired must not change one byte of any report. The analyze JSON
//! of every `testdata/` fixture is also kept whole in `testdata/oracle/reports/`, so that a
//! difference there can be read, not only detected.
//!
//! After a deliberate change of a report, rewrite both with
//! `SIPDIAG_BLESS=1 cargo test --test report_baseline` and read the diff. Without
//! `../shared/captures` the corpus rows are not checked (a `SKIPPED` line says so).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const TABLE: &str = "oracle/reports.tsv";
const WHOLE: &str = "oracle/reports";
const HEADER: &str = "capture\treport\texit\tbytes\tfnv1a64";

/// The reports compared, by name, with their arguments before the capture.
const REPORTS: &[(&str, &[&str])] = &[
    (
        "analyze-json",
        &["analyze", "--format", "json", "--fail-on", "none"],
    ),
    (
        "analyze-md",
        &["analyze", "--format", "markdown", "--fail-on", "none"],
    ),
    (
        "analyze-table",
        &["analyze", "--format", "table", "--fail-on", "none"],
    ),
    // One file is read as a stream (calls judged as they end); `--in-memory` holds every
    // call: the same bytes.
    (
        "analyze-json-in-memory",
        &[
            "analyze",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--in-memory",
        ],
    ),
    (
        "analyze-table-in-memory",
        &[
            "analyze",
            "--format",
            "table",
            "--fail-on",
            "none",
            "--in-memory",
        ],
    ),
    (
        "analyze-md-verbose",
        &[
            "analyze",
            "--format",
            "markdown",
            "--verbose",
            "--fail-on",
            "none",
        ],
    ),
    (
        "analyze-md-verbose-in-memory",
        &[
            "analyze",
            "--format",
            "markdown",
            "--verbose",
            "--fail-on",
            "none",
            "--in-memory",
        ],
    ),
    (
        "analyze-flow-md",
        &[
            "analyze",
            "--flow",
            "--format",
            "markdown",
            "--fail-on",
            "none",
        ],
    ),
    (
        "analyze-html",
        &["analyze", "--format", "html", "--fail-on", "none"],
    ),
    (
        "analyze-html-in-memory",
        &[
            "analyze",
            "--format",
            "html",
            "--fail-on",
            "none",
            "--in-memory",
        ],
    ),
    (
        "analyze-html-verbose",
        &[
            "analyze",
            "--format",
            "html",
            "--verbose",
            "--fail-on",
            "none",
        ],
    ),
    (
        "analyze-html-verbose-in-memory",
        &[
            "analyze",
            "--format",
            "html",
            "--verbose",
            "--fail-on",
            "none",
            "--in-memory",
        ],
    ),
    ("calls-json", &["calls", "--format", "json"]),
    ("calls-table", &["calls", "--format", "table"]),
    ("media-json", &["media", "--format", "json"]),
    ("media-table", &["media", "--format", "table"]),
];

fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            captures_under(&p, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "pcap" | "pcapng" | "cap" | "gz"))
        {
            out.push(p);
        }
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Runs sipdiag from the repository root on `rel` (a path relative to it, as the reports
/// quote it), 200 columns wide, without colour.
fn run(args: &[&str], rel: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .arg(rel)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env_remove("SIPDIAG_PROGRESS")
        .output()
        .expect("run sipdiag")
}

/// The rows of one capture, and its analyze JSON.
fn rows(rel: &str) -> (Vec<String>, Vec<u8>) {
    let mut json = Vec::new();
    let rows = REPORTS
        .iter()
        .map(|(name, args)| {
            let mut out = run(args, rel);
            // The version the report names is not part of what is compared.
            out.stdout = String::from_utf8_lossy(&out.stdout)
                .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
                .into_bytes();
            if *name == "analyze-json" {
                json = out.stdout.clone();
            }
            format!(
                "{rel}\t{name}\t{}\t{}\t{:016x}",
                out.status.code().unwrap_or(-1),
                out.stdout.len(),
                fnv1a64(&out.stdout)
            )
        })
        .collect();
    (rows, json)
}

/// The file the analyze JSON of a fixture is kept in.
fn whole_name(rel: &str) -> String {
    let rel = rel.strip_prefix("testdata/").unwrap_or(rel);
    format!("{}.json", rel.replace('/', "__"))
}

#[test]
fn reports_match_the_committed_baseline() {
    let root = common::root();
    let mut paths = Vec::new();
    captures_under(&common::testdata(""), &mut paths);
    let fixtures = paths.len();
    assert!(fixtures > 80, "fixtures found: {fixtures}");
    let corpus = common::corpus();
    if let Some(c) = &corpus {
        captures_under(c, &mut paths);
    }
    let rels: Vec<String> = paths
        .iter()
        .map(|p| {
            let p = p.strip_prefix(&root).unwrap();
            // `../shared/...`: the corpus beside the repository, as a user would name it.
            let s = p.to_string_lossy().replace("/testdata/../", "/");
            s.replace("testdata/../shared", "../shared")
        })
        .collect();
    // Two workers: every report is its own process.
    let results: Vec<(Vec<String>, Vec<u8>)> = std::thread::scope(|s| {
        let half = rels.len().div_ceil(2);
        let work: Vec<_> = rels
            .chunks(half)
            .map(|rs| s.spawn(move || rs.iter().map(|r| rows(r)).collect::<Vec<_>>()))
            .collect();
        work.into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let actual: Vec<String> = results.iter().flat_map(|(r, _)| r.clone()).collect();
    // Read as a stream or holding every call, `analyze` writes the same bytes (blessing
    // cannot accept a difference between the two).
    let digest = |capture: &str, report: &str| {
        let row = (actual.iter())
            .find(|r| r.starts_with(&format!("{capture}\t{report}\t")))
            .unwrap_or_else(|| panic!("{capture} {report}"));
        row.splitn(3, '\t').nth(2).unwrap().to_string()
    };
    for rel in &rels {
        for report in [
            "analyze-json",
            "analyze-table",
            "analyze-md-verbose",
            "analyze-html",
            "analyze-html-verbose",
        ] {
            assert_eq!(
                digest(rel, report),
                digest(rel, &format!("{report}-in-memory")),
                "{rel}: {report} read as a stream differs from --in-memory"
            );
        }
    }

    let table = common::testdata(TABLE);
    let whole = common::testdata(WHOLE);
    if std::env::var_os("SIPDIAG_BLESS").is_some() {
        assert!(
            corpus.is_some(),
            "blessing needs the corpus beside the repository"
        );
        std::fs::write(&table, format!("{HEADER}\n{}\n", actual.join("\n"))).unwrap();
        std::fs::create_dir_all(&whole).unwrap();
        for (rel, (_, json)) in rels.iter().zip(&results).take(fixtures) {
            std::fs::write(whole.join(whole_name(rel)), json).unwrap();
        }
        eprintln!("wrote {} and {}", table.display(), whole.display());
        return;
    }

    // Whole JSON first: its difference is the readable one.
    for (rel, (_, json)) in rels.iter().zip(&results).take(fixtures) {
        let path = whole.join(whole_name(rel));
        let expected =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let actual = String::from_utf8_lossy(json);
        if expected != actual {
            let at = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(expected.lines().count().min(actual.lines().count()));
            panic!(
                "analyze JSON of {rel} differs from {} at line {}:\n  expected {:?}\n  actual   {:?}",
                path.display(),
                at + 1,
                expected.lines().nth(at),
                actual.lines().nth(at)
            );
        }
    }

    let key = |r: &String| {
        let mut c = r.split('\t');
        (c.next().unwrap().to_string(), c.next().unwrap().to_string())
    };
    let expected: BTreeMap<(String, String), String> = common::tsv(&table, "capture\t")
        .into_iter()
        .map(|r| r.join("\t"))
        .filter(|r| corpus.is_some() || !r.starts_with("../shared/"))
        .map(|r| (key(&r), r))
        .collect();
    let act: BTreeMap<(String, String), String> =
        actual.iter().map(|r| (key(r), r.clone())).collect();
    let mut diff = Vec::new();
    for (k, e) in &expected {
        match act.get(k) {
            Some(a) if a == e => {}
            Some(a) => diff.push(format!("  expected {e}\n  actual   {a}")),
            None => diff.push(format!("  missing  {e}")),
        }
    }
    for (k, a) in &act {
        if !expected.contains_key(k) {
            diff.push(format!("  new      {a}"));
        }
    }
    assert!(
        diff.is_empty(),
        "reports differ from {TABLE} (SIPDIAG_BLESS=1 rewrites it; read the diff):\n{}",
        diff.join("\n")
    );
}
