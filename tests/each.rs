//! `analyze --each`: a folder of tickets, each capture analysed on its own. Every report
//! must be the one `analyze` gives for that file alone; the summary has a row per file
//! and the exit code is the worst file's.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(out),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The `.pcap` and `.pcapng` files directly in `dir`, sorted as strings.
fn pcaps(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_folder_gives_each_file_its_own_report_and_a_summary_row() {
    let dir = testdata("followme");
    let out = sipdiag(&[
        "analyze",
        "--each",
        "--format",
        "json",
        dir.to_str().unwrap(),
    ]);
    let doc = json(&out);
    assert_eq!(doc["schema_version"], 1);
    let files = doc["files"].as_array().unwrap();
    let summary = doc["summary"].as_array().unwrap();
    // Every capture of the folder (README, scripts and TSV files left out), sorted.
    let want = pcaps(&dir);
    assert!(want.len() > 30, "{want:?}");
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, want);
    assert_eq!(summary.len(), want.len());
    let mut worst = 0;
    for (i, path) in want.iter().enumerate() {
        // The same report as `analyze` on that file alone, and the same exit code.
        let alone = sipdiag(&["analyze", "--format", "json", path]);
        let code = alone.status.code().unwrap();
        assert_eq!(files[i]["report"], json(&alone), "{path}");
        let row = &summary[i];
        assert_eq!(row["path"], path.as_str());
        assert_eq!(row["exit_code"], code, "{path}");
        let report = &files[i]["report"];
        assert_eq!(row["calls"], report["summary"]["calls"], "{path}");
        assert_eq!(row["failures"], report["summary"]["failed"], "{path}");
        assert_eq!(
            row["findings"].as_u64().unwrap() as usize,
            report["findings"].as_array().unwrap().len()
        );
        assert_eq!(row["worst"]["id"], report["findings"][0]["id"], "{path}");
        worst = worst.max(code);
    }
    // Findings at error level exist in this folder (FM002 and others): exit 1.
    assert_eq!(worst, 1);
    assert_eq!(out.status.code(), Some(worst));
}

/// A folder with two good captures, a damaged one and notes.
fn mixed_folder() -> (tempfile::TempDir, [PathBuf; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("pbx");
    std::fs::create_dir(&sub).unwrap();
    let a = sub.join("fm002-intl00.pcap");
    std::fs::copy(testdata("followme/fm002-intl00.pcap"), &a).unwrap();
    // tcpdump's `-w trace` without an extension: taken by its magic bytes.
    let b = dir.path().join("trace");
    std::fs::copy(testdata("followme/fm003-no-diversion.pcap"), &b).unwrap();
    let bad = dir.path().join("broken.pcapng");
    std::fs::write(&bad, b"this is a text file, not a capture\n").unwrap();
    std::fs::write(dir.path().join("README.txt"), b"ticket notes\n").unwrap();
    (dir, [bad, a, b])
}

#[test]
fn a_damaged_file_exits_2_and_the_others_are_still_reported() {
    let (dir, [bad, a, b]) = mixed_folder();
    let d = dir.path().to_str().unwrap();
    let out = sipdiag_wide(&["analyze", "--each", d]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.pcapng") && err.contains("not a pcap or pcapng"),
        "{err}"
    );
    // One header per file, in path order, each followed by its own report.
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("==> ")).collect();
    let want: Vec<String> = [&bad, &a, &b]
        .iter()
        .map(|p| format!("==> {} <==", p.display()))
        .collect();
    assert_eq!(headers, want);
    let section = |i: usize| {
        let start = text.find(&want[i]).unwrap();
        let end = want
            .get(i + 1)
            .and_then(|n| text.find(n.as_str()))
            .unwrap_or(text.len());
        &text[start..end]
    };
    assert!(section(0).contains("not analysed"), "{}", section(0));
    assert!(section(1).contains("[FM002 diversion-format] error"));
    assert!(section(2).contains("[SIP001 invite-failed] warning"));
    // The summary: a row per file, the damaged one not analysed.
    let summary = &text[text.find("Summary: ").expect("summary")..];
    assert!(
        summary.starts_with(
            "Summary: 3 captures: 1 clean, 1 with findings at or above --fail-on, 1 not analysed"
        ),
        "{summary}"
    );
    let rows: Vec<&str> = summary.lines().filter(|l| l.starts_with("│ ")).collect();
    assert_eq!(rows.len(), 4, "{summary}"); // header + 3 files
    assert!(rows[1].contains("broken.pcapng") && rows[1].contains("not analysed"));
    assert!(rows[2].contains("fm002-intl00.pcap") && rows[2].contains("error FM002"));
    assert!(rows[3].contains("trace") && rows[3].contains("warning SIP001"));

    // JSON: the damaged file has an error instead of a report.
    let out = sipdiag(&["analyze", "--each", "--format", "json", d]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert!(doc["files"][0]["report"].is_null());
    assert!(
        doc["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not a pcap or pcapng")
    );
    assert_eq!(doc["summary"][0]["exit_code"], 2);
    assert_eq!(doc["files"][1]["report"]["findings"][0]["id"], "FM002");

    // Markdown: a section per file and the summary table.
    let out = sipdiag(&["analyze", "--each", "--format", "markdown", d]);
    assert_eq!(out.status.code(), Some(2));
    let md = stdout(&out);
    for p in [&bad, &a, &b] {
        assert!(md.contains(&format!("## `{}`\n", p.display())), "{md}");
    }
    assert!(md.contains("### sipdiag report"));
    assert_eq!(
        md.lines()
            .skip_while(|l| *l != "## Summary")
            .filter(|l| l.starts_with("| `"))
            .count(),
        3
    );
}

#[test]
fn the_exit_code_follows_the_worst_file_and_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        testdata("followme/fm003-no-diversion.pcap"),
        dir.path().join("w.pcap"),
    )
    .unwrap();
    std::fs::copy(
        testdata("followme/healthy-diversion-udp.pcap"),
        dir.path().join("ok.pcap"),
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    // A warning at most: clean by default, failing with --fail-on warning.
    assert_eq!(sipdiag(&["analyze", "--each", d]).status.code(), Some(0));
    let out = sipdiag(&["analyze", "--each", "--fail-on", "warning", "-f", "json", d]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let codes: Vec<u64> = doc["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["exit_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [0, 1]); // ok.pcap, w.pcap
    // Files named on the command line, in any order, come out sorted.
    let w = dir.path().join("w.pcap");
    let ok = dir.path().join("ok.pcap");
    let out = sipdiag(&[
        "analyze",
        "--each",
        "-f",
        "json",
        w.to_str().unwrap(),
        ok.to_str().unwrap(),
    ]);
    let doc = json(&out);
    assert_eq!(doc["files"][0]["path"], ok.to_str().unwrap());
    assert_eq!(doc["files"][1]["path"], w.to_str().unwrap());
}

#[test]
fn bad_options_and_empty_folders_are_the_runs_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // A bad option fails once, before any file is read.
    let out = sipdiag(&["analyze", "--each", "--severity", "NOPE=error", d]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    // A folder without captures is reported as not analysed.
    let out = sipdiag(&["analyze", "--each", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no capture file"));
}

#[test]
fn each_schema_is_current_and_matches_output() {
    let generated = sipdiag::report::each::json_schema();
    let path = root().join("src/report/each.schema.json");
    if std::env::var_os("SIPDIAG_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == generated,
        "src/report/each.schema.json is stale: run `SIPDIAG_UPDATE_SCHEMA=1 cargo test --test each`"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).unwrap();
    let (dir, _) = mixed_folder();
    let out = sipdiag(&[
        "analyze",
        "--each",
        "-f",
        "json",
        dir.path().to_str().unwrap(),
    ]);
    let doc = json(&out);
    for key in schema["required"].as_array().unwrap() {
        assert!(doc.get(key.as_str().unwrap()).is_some(), "lacks {key}");
    }
    for key in schema["$defs"]["EachRow"]["required"].as_array().unwrap() {
        assert!(
            doc["summary"][1].get(key.as_str().unwrap()).is_some(),
            "row lacks {key}"
        );
    }
}
