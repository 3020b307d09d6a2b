//! Several files read together (a rotated set, two capture points, captures of different
//! calls) are judged as a stream, as one file is: memory follows the calls in progress.
//! The report is the one sipdiag writes holding every call (`--in-memory`), byte for
//! byte, in every format (the ladders of `--flow` and the HTML page's, read from the files
//! again, included), with a focus, `--verbose`, `--redact` and an unreadable file among
//! them; the calls retire as they end (`--max-calls` shows it).

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const PBX: &str = "followme/merge-pbx-side.pcap";
const XCC: &str = "followme/merge-xcc-side.pcapng";

/// `analyze ARGS…` run as a stream and holding every call: the same output (standard
/// output, standard error and exit code), in tables, markdown and JSON, with the ladders
/// of `--flow`, and as the HTML page (the messages' texts in its ladders).
fn same_as_held(case: &str, args: &[&str]) {
    let formats = [
        &["--format", "table"][..],
        &["--format", "markdown"],
        &["--format", "json"],
        &["--format", "table", "--flow"],
        &["--format", "markdown", "--flow"],
        &["--format", "html"],
    ];
    for format in formats {
        let run = |held: bool| {
            let mut argv = vec!["analyze"];
            argv.extend_from_slice(format);
            if held {
                argv.push("--in-memory");
            }
            argv.extend_from_slice(args);
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
                .args(&argv)
                .env("NO_COLOR", "1")
                .env("COLUMNS", "100")
                .env("SIPDIAG_REDACT_KEY", "merge-stream")
                .output()
                .expect("run sipdiag");
            (
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
                out.status.code(),
            )
        };
        let (streamed, held) = (run(false), run(true));
        assert!(
            !held.0.is_empty(),
            "{case} {format:?}: no report: {}",
            held.1
        );
        assert_eq!(streamed, held, "{case} {format:?}");
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn several_files_read_as_a_stream_give_the_report_of_every_call_held() {
    let dir = tempfile::tempdir().unwrap();
    let split = |name: &str, per: usize| {
        let into = dir.path().join(name.replace('/', "-"));
        std::fs::create_dir(&into).unwrap();
        let parts = split_pcap(&testdata(name), per, &into);
        assert!(parts.len() >= 3, "{name}: {parts:?}");
        parts
    };
    let busy = split("followme/busy-site.pcap", 40);
    let many = split("followme/many-calls.pcap", 50);
    let pbx = split(PBX, 4);
    let (pbx_whole, xcc) = (testdata(PBX), testdata(XCC));
    let bad = dir.path().join("xcc.pcap");
    std::fs::write(&bad, b"not a capture\n").unwrap();

    // A rotated set given in any order: read by time.
    let mut reversed = strs(&busy);
    reversed.reverse();
    same_as_held("busy-site rotated, reversed", &reversed);
    let many_parts = strs(&many);
    same_as_held("many-calls rotated", &many_parts);
    // Two capture points, one of them rotated; and an unreadable file among them.
    same_as_held("two points", &[path(&pbx_whole), path(&xcc)]);
    let mut rotated_side = strs(&pbx);
    rotated_side.push(path(&xcc));
    same_as_held("a rotated side and the other", &rotated_side);
    let mut with_bad = strs(&pbx);
    with_bad.extend([path(&bad), path(&xcc)]);
    same_as_held("an unreadable file among them", &with_bad);
    // Captures of different calls.
    let (fm002, fm006) = (
        testdata("followme/fm002-intl00.pcap"),
        testdata("followme/fm006-second-leg-404.pcap"),
    );
    same_as_held("two captures", &[path(&fm002), path(&fm006)]);
    // A damaged file (cut short) after another: its call judged with its damage.
    let (early, cut) = (
        testdata("followme/healthy-diversion-udp.pcap"),
        testdata("followme/cap-followme-truncated.pcap"),
    );
    same_as_held("a damaged file second", &[path(&early), path(&cut)]);
    same_as_held("an unreadable file first", &[path(&bad), path(&cut)]);
    // A focus, every finding shown, names hidden.
    for extra in [
        &["--number", "+49891001"][..],
        &["--call-id", "516dfc03bb884876380ae5d8@127.0.0.20"],
        &["--verbose"],
        &["--fail-on", "none"],
    ] {
        let mut args = extra.to_vec();
        args.extend_from_slice(&many_parts);
        same_as_held(&format!("many-calls rotated {extra:?}"), &args);
    }
    let mut args = vec!["--redact"];
    args.extend_from_slice(&rotated_side);
    same_as_held("redacted", &args);
}

/// Every fixture and public corpus capture read together with the next one (in sorted
/// order, the last with the first): the JSON document of every call held. The pairs
/// bring together what one file rarely has: a call judged as it ends in one file whose
/// verdict a capture rule retells with the other's findings (FM005 beside FM006), a call
/// of a file that ends damaged judged before the other file ends, TLS between hosts the
/// other file shows signalling (CAP003), a call IP Office ignored beside a file whose
/// calls identify IP Office (IPO001).
#[test]
fn every_capture_with_the_next_gives_the_report_of_every_call_held() {
    let dirs = [
        "followme", "ipoffice", "diag", "calls", "media", "reader", "extract", "redact",
    ];
    let files = fixtures_and_corpus(&dirs);
    assert!(files.len() > 40, "{} captures", files.len());
    for (i, a) in files.iter().enumerate() {
        let b = &files[(i + 1) % files.len()];
        let run = |held: &[&str]| {
            let argv = [
                &["analyze", "--format", "json"][..],
                held,
                &[path(a), path(b)],
            ]
            .concat();
            let out = sipdiag(&argv);
            (stdout(&out), out.status.code())
        };
        let (streamed, held) = (run(&[]), run(&["--in-memory"]));
        if streamed != held {
            let first = (streamed.0.lines().zip(held.0.lines()))
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            let around = |t: &str| {
                t.lines()
                    .skip(first.saturating_sub(3))
                    .take(8)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "{a:?} {b:?}: exit {:?} / {:?}; streamed:\n{}\nheld:\n{}",
                streamed.1,
                held.1,
                around(&streamed.0),
                around(&held.0)
            );
        }
    }
}

/// A call is judged with the damage of the file that carried it, also when a file given
/// before it could not be read (the reports list the readable files only): FM002 says
/// that XCC's answer is not in the cut file, as when the file is read alone.
#[test]
fn a_call_is_judged_with_its_file_s_damage_after_an_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("xcc.pcap");
    std::fs::write(&bad, b"not a capture\n").unwrap();
    let cut = testdata("followme/cap-followme-truncated.pcap");
    let early = testdata("followme/healthy-diversion-udp.pcap");
    let ids = |args: &[&str]| -> Vec<String> {
        let out = sipdiag(&[&["analyze", "--format", "json"][..], args].concat());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["findings"].as_array().unwrap().iter())
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let alone = ids(&[path(&cut)]);
    assert!(alone.contains(&"FM002".to_string()), "{alone:?}");
    for held in [&[][..], &["--in-memory"]] {
        let files = [path(&bad), path(&early), path(&cut)];
        assert_eq!(ids(&[held, &files[..]].concat()), alone, "{held:?}");
        let files = [path(&bad), path(&cut)];
        assert_eq!(ids(&[held, &files[..]].concat()), alone, "{held:?}");
    }
}

/// `flow` of several files, read as a stream, draws the ladder it draws holding every
/// call, in each format, with or without a focus.
#[test]
fn flow_of_several_files_draws_the_ladder_of_every_call_held() {
    let dir = tempfile::tempdir().unwrap();
    let many = split_pcap(&testdata("followme/many-calls.pcap"), 50, dir.path());
    let (pbx, xcc) = (testdata(PBX), testdata(XCC));
    let cases: [Vec<&str>; 3] = [
        vec![path(&pbx), path(&xcc)],
        [&["--number", "+49891001"][..], &strs(&many)].concat(),
        [
            &["--call-id", "516dfc03bb884876380ae5d8@127.0.0.20"][..],
            &strs(&many),
        ]
        .concat(),
    ];
    for args in cases {
        for format in ["text", "markdown", "mermaid"] {
            let run = |held: &[&str]| {
                let argv = [&["flow", "--format", format][..], held, &args].concat();
                let out = sipdiag_wide(&argv);
                (stdout(&out), out.status.code())
            };
            let (streamed, held) = (run(&[]), run(&["--in-memory"]));
            assert!(streamed.0.contains("INVITE"), "{args:?} {format}");
            assert_eq!(streamed, held, "{args:?} {format}");
        }
    }
}

/// Read as a stream, the calls of a rotated set retire as they end: at `--max-calls 5`
/// the report says, as the whole file's does, that calls were judged before the legs
/// they may be linked with retired, and cites the frame in its file; holding every call,
/// nothing waits. So with `--flow` and as the HTML page.
#[test]
fn the_calls_of_several_files_retire_as_they_end() {
    let dir = tempfile::tempdir().unwrap();
    let whole = testdata("followme/busy-site.pcap");
    let parts = split_pcap(&whole, 40, dir.path());
    let waited = |args: &[&str]| -> Vec<Value> {
        let mut argv = vec!["analyze", "--format", "json", "--max-calls", "5"];
        argv.extend_from_slice(args);
        let out = sipdiag(&argv);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["findings"].as_array().unwrap().iter())
            .filter(|f| f["id"] == "CAP006")
            .map(|f| serde_json::json!([f["evidence"]["count"], f["frames"]]))
            .collect()
    };
    let mut args: Vec<&str> = parts.iter().map(String::as_str).collect();
    assert_eq!(waited(&[path(&whole)]), [serde_json::json!([6, [1]])]);
    let cited = serde_json::json!([6, [{"capture": parts[0], "frame": 1}]]);
    assert_eq!(waited(&args), [cited]);
    args.insert(0, "--in-memory");
    assert_eq!(waited(&args), Vec::<Value>::new());
    // The ladders of `--flow` and the HTML page read the files again as a stream too: the
    // report that comes with them is the streamed one.
    let said = |extra: &[&str]| -> bool {
        let mut argv = vec!["analyze", "--max-calls", "5"];
        argv.extend_from_slice(extra);
        argv.extend(parts.iter().map(String::as_str));
        stdout(&sipdiag_wide(&argv)).contains("calls waiting for their Follow-Me legs")
    };
    for extra in [
        &["--flow"][..],
        &["--format", "markdown", "--flow"],
        &["--format", "html"],
    ] {
        assert!(said(extra), "{extra:?}");
        let held = [extra, &["--in-memory"]].concat();
        assert!(!said(&held), "{held:?}");
    }
}
