//! The findings of `analyze` on every public corpus capture, against a committed table.
//!
//! `testdata/oracle/corpus-findings.tsv` holds, per capture, the exit code, the rule ids with
//! their counts and the XCC addresses sipdiag identified. It was read by hand when written, so
//! any change of a finding on real captures shows up in review as a change of that file.
//! After a deliberate change, rewrite it with
//! `SIPDIAG_BLESS=1 cargo test --test corpus_findings` and read the diff.
//!
//! None of the corpus captures holds an XPhone server, so no Follow-Me rule may fire on any
//! of them, whatever the table says.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TABLE: &str = "oracle/corpus-findings.tsv";
const HEADER: &str = "capture\texit\tfindings\txcc";

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

/// One row of the table for the capture at `path` (named `name`).
fn row(name: &str, path: &Path) -> String {
    let out = common::sipdiag(&[
        "analyze",
        "--format",
        "json",
        "--fail-on",
        "none",
        path.to_str().unwrap(),
    ]);
    let code = out.status.code().unwrap_or(-1);
    let (findings, xcc) = match serde_json::from_slice::<serde_json::Value>(&out.stdout) {
        Ok(doc) => {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for f in doc["findings"].as_array().expect("findings") {
                *counts
                    .entry(f["id"].as_str().expect("id").to_string())
                    .or_default() += 1;
            }
            let findings = counts
                .iter()
                .map(|(id, n)| format!("{id}x{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            let xcc = doc["roles"]["xcc"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| x.as_str().unwrap_or("?").to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            (findings, xcc)
        }
        Err(_) => ("(no report)".to_string(), String::new()),
    };
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    format!("{name}\t{code}\t{}\t{}", dash(findings), dash(xcc))
}

#[test]
fn corpus_findings_match_the_committed_table() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut paths = Vec::new();
    captures_under(&corpus, &mut paths);
    assert!(paths.len() > 50, "corpus captures found: {}", paths.len());
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.strip_prefix(&corpus)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // Two workers: each capture is its own process.
    let rows: Vec<String> = std::thread::scope(|s| {
        let half = paths.len().div_ceil(2);
        let work: Vec<_> = paths
            .chunks(half)
            .zip(names.chunks(half))
            .map(|(ps, ns)| {
                s.spawn(move || {
                    ps.iter()
                        .zip(ns)
                        .map(|(p, n)| row(n, p))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        work.into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });

    for r in &rows {
        let cols: Vec<&str> = r.split('\t').collect();
        assert!(
            !cols[2].split(' ').any(|f| f.starts_with("FM")),
            "a Follow-Me rule fired on a capture without an XPhone server: {r}"
        );
        assert_eq!(cols[3], "-", "XCC named on a capture without one: {r}");
    }

    let table = common::testdata(TABLE);
    let actual = format!("{HEADER}\n{}\n", rows.join("\n"));
    if std::env::var_os("SIPDIAG_BLESS").is_some() {
        let notes: String = std::fs::read_to_string(&table)
            .unwrap_or_default()
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&table, format!("{notes}{actual}")).expect("write table");
        eprintln!("wrote {}", table.display());
        return;
    }
    let expected: Vec<String> = common::tsv(&table, "capture\t")
        .into_iter()
        .map(|r| r.join("\t"))
        .collect();
    let mut diff = Vec::new();
    let exp: BTreeMap<&str, &String> = expected
        .iter()
        .map(|r| (r.split('\t').next().unwrap(), r))
        .collect();
    let act: BTreeMap<&str, &String> = rows
        .iter()
        .map(|r| (r.split('\t').next().unwrap(), r))
        .collect();
    for (name, e) in &exp {
        match act.get(name) {
            Some(a) if a == e => {}
            Some(a) => diff.push(format!("  expected {e}\n  actual   {a}")),
            None => diff.push(format!("  missing  {e}")),
        }
    }
    for (name, a) in &act {
        if !exp.contains_key(name) {
            diff.push(format!("  new      {a}"));
        }
    }
    assert!(
        diff.is_empty(),
        "findings on the public corpus differ from {TABLE} (SIPDIAG_BLESS=1 rewrites it; read the diff):\n{}",
        diff.join("\n")
    );
}
