//! The `analyze` report as a person at a ticket reads it: counts and verdicts first, one
//! entry per cause with its proof quoted, one shared suggestion, lines that fit the width.
//! Expected calls, frames and statuses come from tshark's listing of the fixture
//! (`testdata/followme/busy-site.sip.tsv`).

mod common;

use std::process::Command;

use common::root;
use serde_json::Value;

const BUSY: &str = "testdata/followme/busy-site.pcap";

fn run(args: &[&str], columns: &str) -> (String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", columns)
        .output()
        .expect("run sipdiag");
    (
        String::from_utf8(out.stdout).expect("UTF-8"),
        out.status.code(),
    )
}

/// (frame, message, Call-ID) of tshark's listing.
fn listing() -> Vec<(u64, String, String)> {
    common::tsv(&common::testdata("followme/busy-site.sip.tsv"), "frame\t")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[5].clone(), r[7].clone()))
        .collect()
}

#[test]
fn summary_counts_what_happened_to_the_calls() {
    let (json, _) = run(&["analyze", "--format", "json", BUSY], "100");
    let v: Value = serde_json::from_str(&json).unwrap();
    let rows = listing();
    // From tshark: Call-IDs with an INVITE; final INVITE responses by class.
    let mut calls: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 == "INVITE")
        .map(|r| r.2.as_str())
        .collect();
    calls.dedup();
    let finals = |pred: &dyn Fn(u16) -> bool| {
        let mut ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.1.parse::<u16>().is_ok_and(|s| s >= 200 && pred(s)))
            .filter(|r| {
                // responses to the INVITE: the first final of each call (BYE's 200 is later)
                rows.iter()
                    .find(|x| x.2 == r.2 && x.1.parse::<u16>().is_ok_and(|s| s >= 200))
                    .is_some_and(|first| first.0 == r.0)
            })
            .map(|r| r.2.as_str())
            .collect();
        ids.dedup();
        ids.len()
    };
    let s = &v["summary"];
    assert_eq!(s["calls"], calls.len() as u64);
    assert_eq!(s["answered"], finals(&|s| s < 300) as u64);
    assert_eq!(s["failed"], finals(&|s| s >= 300) as u64);
    assert_eq!(s["failed_by_status"]["503"], 3);
    assert_eq!(s["failed_by_status"]["486"], 1);
    assert_eq!(s["followme_linked"], 3);
    // One verdict per call or Follow-Me pair: three pairs, three 503s, one 486.
    let verdicts = v["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 7);
    assert_eq!(verdicts.iter().filter(|x| x["ok"] == true).count(), 3);
    let pair = &verdicts[0];
    assert_eq!(pair["call_ids"][0], rows[0].2.as_str());
    assert_eq!(
        pair["call_ids"][1],
        rows[3].2.as_str(),
        "frame 4: its second leg"
    );
}

#[test]
fn one_shared_suggestion_and_quoted_proof() {
    let (json, _) = run(&["analyze", "--format", "json", BUSY], "100");
    assert_eq!(
        json.matches("\"xcc_diversion_pattern\":").count(),
        1,
        "the suggestion is written once"
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    let fm002: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "FM002")
        .collect();
    assert_eq!(fm002.len(), 3);
    for f in &fm002 {
        assert_eq!(f["suggestion"], 0);
        // The Diversion line of the INVITE and the 503 status line, with their frames.
        let proof = f["proof"].as_array().unwrap();
        let invite = f["evidence"]["invite_frame"].as_u64().unwrap();
        assert!(
            proof.iter().any(|q| q["frame"] == invite
                && q["line"].as_str().unwrap().starts_with("Diversion: <sip:")),
            "{f}"
        );
        assert!(
            proof
                .iter()
                .any(|q| q["line"] == "SIP/2.0 503 Service Unavailable"),
            "{f}"
        );
    }
    let s = &v["suggestions"][0];
    assert_eq!(s["observed_count"], s["understood_count"]);
    // Every finding is there, and every group names its findings.
    let groups = v["groups"].as_array().unwrap();
    let grouped: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(grouped as usize, v["findings"].as_array().unwrap().len());
}

#[test]
fn verdict_first_and_every_cause_named_in_markdown() {
    let (md, code) = run(&["analyze", "--format", "markdown", BUSY], "100");
    assert_eq!(code, Some(1), "FM002 errors");
    assert!(md.len() <= 15 * 1024, "{} bytes", md.len());
    let head: Vec<&str> = md.lines().take(6).collect();
    assert!(
        head[2].starts_with("10 calls: 3 Follow-Me calls with both legs linked"),
        "{head:?}"
    );
    for cause in ["FM002 diversion-format", "SIP001 invite-failed"] {
        assert!(md.contains(cause), "{cause}");
    }
    // Failed calls each get a verdict line, citing the final response's frame.
    for frame in [285, 571, 575, 861] {
        assert!(
            md.lines()
                .any(|l| l.starts_with("- FAILED") && l.contains(&format!("(frame {frame})"))),
            "frame {frame}:\n{md}"
        );
    }
    assert_eq!(md.matches("Candidate XccDiversionPattern").count(), 1);
}

#[test]
fn table_fits_80_columns_and_verbose_lists_everything() {
    let (text, _) = run(&["analyze", BUSY], "80");
    for line in text.lines() {
        // Unbreakable tokens (a Wireshark filter naming a Call-ID, a candidate pattern)
        // may overflow; nothing else does.
        let long_token = line.split(' ').any(|w| w.chars().count() > 30);
        assert!(
            line.chars().count() <= 80 || long_token,
            "{} chars: {line}",
            line.chars().count()
        );
    }
    assert!(text.starts_with("10 calls: "), "{text}");
    let (verbose, _) = run(&["analyze", "--verbose", BUSY], "200");
    for (_, _, id) in listing() {
        assert!(verbose.contains(&id), "--verbose names {id}");
    }
}

#[test]
fn messages_time_columns_match_tshark() {
    // fm006's first frame is a SIP message, so tshark's frame.time_relative is the time
    // since the first message listed.
    let rows = common::tsv(
        &common::testdata("followme/fm006-second-leg-404.sip.tsv"),
        "frame\t",
    );
    let tshark: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    let column = |mode: &str| -> Vec<f64> {
        let (text, code) = run(
            &[
                "messages",
                "--time",
                mode,
                "testdata/followme/fm006-second-leg-404.pcap",
            ],
            "200",
        );
        assert_eq!(code, Some(0));
        text.lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect()
    };
    let relative = column("relative");
    let delta = column("delta");
    assert_eq!(relative.len(), tshark.len());
    for (i, t) in tshark.iter().enumerate() {
        assert!(
            (relative[i] - t).abs() < 2e-6,
            "frame {}: {}",
            i + 1,
            relative[i]
        );
        let d = if i == 0 { 0.0 } else { t - tshark[i - 1] };
        assert!((delta[i] - d).abs() < 3e-6, "frame {}: {}", i + 1, delta[i]);
    }
    let (abs, _) = run(
        &["messages", "testdata/followme/fm006-second-leg-404.pcap"],
        "200",
    );
    assert!(
        abs.lines().nth(1).unwrap().contains('T'),
        "RFC 3339 by default"
    );
}

#[test]
fn progress_line_only_on_a_terminal() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // 4,618 frames: past the first progress check (every 4,096 frames).
    let cap = corpus.join("goffinet/uac-uas-scenario-sipp.pcapng");
    let cap = cap.to_str().unwrap();
    // Not a terminal: nothing on standard error.
    let out = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["messages", cap])
        .env("SIPDIAG_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // On a terminal (util-linux `script` gives one): the line, then erased.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED: `script` (util-linux) is absent; the terminal half of this test needs it"
        );
        return;
    }
    let bin = env!("CARGO_BIN_EXE_sipdiag");
    let out = Command::new("script")
        .args([
            "-qc",
            &format!("{bin} messages '{cap}' >/dev/null"),
            "/dev/null",
        ])
        .env("SIPDIAG_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("4096 frames"), "{tty:?}");
    assert!(tty.contains("SIP messages, ~"), "{tty:?}");
    assert!(tty.ends_with("\r\u{1b}[K"), "erased at the end: {tty:?}");
}

/// The size of `analyze --format json` on many-calls.pcap with schema_version 1 (sipdiag at
/// commit 26c75a1, which wrote the XccDiversionPattern suggestion into every FM002 finding).
const MANY_CALLS_JSON_V1_BYTES: usize = 353_983;

/// Bytes of the non-empty `"media": [ … ]` lists of a pretty-printed JSON report, beyond
/// the `[]` an empty one takes.
fn media_rows_bytes(json: &str) -> usize {
    let mut total = 0;
    let mut rest = json;
    while let Some(at) = rest.find("\"media\": [\n") {
        let line_start = rest[..at].rfind('\n').map_or(0, |n| n + 1);
        let indent = &rest[line_start..at];
        let close = format!("\n{indent}]");
        let body = &rest[at..];
        let end = body.find(&close).expect("the list closes") + close.len();
        total += end - "\"media\": []".len();
        rest = &body[end..];
    }
    total
}

#[test]
fn many_calls_report_is_compact_and_complete() {
    let cap = "testdata/followme/many-calls.pcap";
    // tshark: every failed call is answered 503 once.
    let failed = common::tsv(&common::testdata("followme/many-calls.sip.tsv"), "frame\t")
        .iter()
        .filter(|r| r[5] == "503")
        .count();
    assert_eq!(failed, 54);
    let (json, _) = run(
        &["analyze", "--format", "json", "--fail-on", "none", cap],
        "100",
    );
    // The calls' RTP streams aside: schema 1 listed none for these calls (the sipp calls
    // recycle their RTP addresses and SSRCs, and every call's packets were counted for the
    // last call that announced them; see `src/media/mod.rs`).
    let streams = media_rows_bytes(&json);
    assert!(streams > 0, "the answered calls list their RTP streams");
    assert!(
        (json.len() - streams) * 2 <= MANY_CALLS_JSON_V1_BYTES,
        "{} bytes ({streams} of RTP streams) against {MANY_CALLS_JSON_V1_BYTES} with schema 1",
        json.len()
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), failed, "one finding per failed call");
    assert_eq!(v["suggestions"].as_array().unwrap().len(), 1);
    let s = &v["suggestions"][0];
    assert_eq!(s["observed_count"], s["understood_count"], "{s}");
    // The markdown fits a ticket comment and names every cause.
    let (md, _) = run(&["analyze", "--format", "markdown", cap], "100");
    assert!(md.len() <= 15 * 1024, "{} bytes", md.len());
    for g in v["groups"].as_array().unwrap() {
        let head = format!(
            "{} {} ({})",
            g["id"].as_str().unwrap(),
            g["slug"].as_str().unwrap(),
            g["severity"].as_str().unwrap()
        );
        assert!(md.contains(&head), "{head} missing");
    }
    assert_eq!(md.matches("- FAILED ").count(), failed);
}

/// COLUMNS=80: no line of any command's table output is longer, except lines holding an
/// unbreakable token (a Call-ID, a Wireshark filter, a candidate pattern).
#[test]
fn every_table_fits_80_columns() {
    let fixtures = [
        BUSY,
        "testdata/followme/fm007-second-leg-488.pcap",
        "testdata/media/ice-blocked.pcap",
        "testdata/media/multihomed.pcap",
    ];
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["rules"],
        vec![
            "ipo-route",
            "--config",
            "testdata/ipoffice/example.toml",
            "testdata/ipoffice/ipo-followme-503.pcap",
        ],
    ];
    for f in fixtures {
        // `messages` is left out: a listing in fixed columns, one line per message as
        // tshark prints them, each with its whole Call-ID.
        for cmd in ["analyze", "calls", "media", "flow"] {
            runs.push(vec![cmd, f]);
        }
    }
    for args in &runs {
        let (text, code) = run(args, "80");
        assert!(code.is_some_and(|c| c < 2), "{args:?}");
        for line in text.lines() {
            let long_token = line.split([' ', '│', '┆']).any(|w| w.chars().count() > 30);
            assert!(
                line.chars().count() <= 80 || long_token,
                "{args:?}: {} chars: {line}",
                line.chars().count()
            );
        }
    }
}

/// A finding's title that does not fit the width goes on under its first word, past the
/// "1. " of its number, as the finding's body does: the list stays readable at 80 columns.
#[test]
fn a_long_title_continues_under_its_text() {
    let (text, code) = run(&["analyze", "testdata/followme/fm002-intl00.pcap"], "80");
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("1. [FM002 diversion-format] error: "))
        .expect("FM002's title");
    // This title is longer than 80 columns: its second line is the title's rest.
    assert_eq!(lines[at + 1], "   international with 00", "{text}");
    // Below the "1." nothing starts at column 0 until the next finding or section.
    for l in &lines[at + 1..] {
        if l.is_empty() {
            break;
        }
        assert!(l.starts_with("   "), "{l:?} in\n{text}");
    }
}
