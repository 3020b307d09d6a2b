//! `sipdiag flow` (call ladders) and the focus flags (`--call-id`, `--number`, `--ip`,
//! `--since`, `--until`) on real captures.
//!
//! The ladders are pinned as snapshots in `tests/snapshots/flow-*`; regenerate them after an
//! intended change with `SIPDIAG_UPDATE_SNAPSHOTS=1 cargo test --test flow` and review the
//! diff. The focus tests take their expected Call-IDs, frames and times from tshark's listing
//! of the fixture (`testdata/followme/busy-site.sip.tsv`) and the capture's own bytes.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use common::root;

const BUSY: &str = "testdata/followme/busy-site.pcap";

fn run_env(args: &[&str], columns: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", columns)
        .output()
        .expect("run sipdiag")
}

fn run(args: &[&str]) -> String {
    let out = run_env(args, "100");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("SIPDIAG_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs; if intended, run SIPDIAG_UPDATE_SNAPSHOTS=1 cargo test --test flow\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// tshark's listing of the busy-site fixture: (frame, relative time, src, dst, message,
/// Call-ID).
fn busy_listing() -> Vec<(u64, f64, String, String, String, String)> {
    common::tsv(&common::testdata("followme/busy-site.sip.tsv"), "frame\t")
        .into_iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].clone(),
                r[3].clone(),
                r[5].clone(),
                r[7].clone(),
            )
        })
        .collect()
}

/// The Call-ID of the message in `frame`.
fn call_at(frame: u64) -> String {
    busy_listing()
        .into_iter()
        .find(|r| r.0 == frame)
        .unwrap_or_else(|| panic!("no SIP message in frame {frame}"))
        .5
}

/// The time of the capture's first frame (classic little-endian microsecond pcap).
fn first_frame_time() -> (i64, u32) {
    let bytes = std::fs::read(root().join(BUSY)).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "LE microsecond pcap"
    );
    let secs = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let micros = u32::from_le_bytes(bytes[28..32].try_into().unwrap());
    (i64::from(secs), micros)
}

/// RFC 3339 text of the first frame's time plus `offset` seconds.
fn rfc3339_at(offset: f64) -> String {
    let (secs, micros) = first_frame_time();
    let t = secs as f64 + f64::from(micros) / 1e6 + offset;
    let whole = t.floor() as i64;
    let micros = ((t - t.floor()) * 1e6).round() as u32;
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    // Days to a civil date (H. Hinnant), independently of sipdiag's own code.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The Call-IDs `analyze --format json` reports with `focus` flags.
fn analyzed_calls(focus: &[&str]) -> BTreeSet<String> {
    let mut args = vec!["analyze", "--format", "json", "--fail-on", "none", BUSY];
    args.extend_from_slice(focus);
    let doc: serde_json::Value = serde_json::from_str(&run(&args)).expect("JSON report");
    doc["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_string())
        .collect()
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

#[test]
fn ladders_of_the_rule_fixtures() {
    let fm006 = "testdata/followme/fm006-second-leg-404.pcap";
    for width in ["80", "120"] {
        let out = run_env(&["flow", fm006], width);
        assert_eq!(out.status.code(), Some(0));
        snapshot(
            &format!("flow-fm006-{width}.txt"),
            &String::from_utf8(out.stdout).unwrap(),
        );
    }
    snapshot(
        "flow-fm002.mermaid",
        &run(&[
            "flow",
            "--format",
            "mermaid",
            "testdata/followme/fm002-intl00.pcap",
        ]),
    );
    let out = run_env(
        &[
            "flow",
            "--format",
            "markdown",
            "testdata/followme/healthy-diversion-udp.pcap",
        ],
        "80",
    );
    snapshot("flow-healthy.md", &String::from_utf8(out.stdout).unwrap());
    // The many-calls fixture: its first Follow-Me call (both legs) and the 503 after it.
    let out = run_env(
        &["flow", BUSY, "--until", &rfc3339_at(busy_time(283))],
        "80",
    );
    assert_eq!(out.status.code(), Some(0));
    snapshot(
        "flow-busy-site-80.txt",
        &String::from_utf8(out.stdout).unwrap(),
    );
    snapshot(
        "flow-busy-site.mermaid",
        &run(&[
            "flow",
            "--format",
            "mermaid",
            BUSY,
            "--number",
            "+4989100002",
        ]),
    );
}

/// tshark's time of `frame` in the busy-site fixture, seconds since its first frame.
fn busy_time(frame: u64) -> f64 {
    busy_listing()
        .into_iter()
        .find(|r| r.0 == frame)
        .unwrap_or_else(|| panic!("no SIP message in frame {frame}"))
        .1
}

#[test]
fn ladder_shows_both_legs_in_time_order_with_the_evidence_marked() {
    // fm006: the second leg (frames 4-7) is rejected 404 inside the first leg (1-3, 8-9).
    let text = run(&["flow", "testdata/followme/fm006-second-leg-404.pcap"]);
    let frames: Vec<u64> = text
        .lines()
        .filter_map(|l| l.get(1..7)?.trim().parse().ok())
        .collect();
    let tshark: Vec<u64> = common::tsv(
        &common::testdata("followme/fm006-second-leg-404.sip.tsv"),
        "frame\t",
    )
    .iter()
    .map(|r| r[0].parse().unwrap())
    .collect();
    assert_eq!(frames, tshark, "every SIP frame, in capture order:\n{text}");
    // The 404 of the second leg is evidence (FM006), the first leg's 100 Trying is not.
    let line = |frame: u64| {
        text.lines()
            .find(|l| l.get(1..7).is_some_and(|f| f.trim() == frame.to_string()))
            .unwrap()
            .to_string()
    };
    assert!(
        line(6).starts_with('*') && line(6).contains("404 Not Found"),
        "{text}"
    );
    assert!(
        line(2).starts_with(' ') && line(2).contains("100 Trying"),
        "{text}"
    );
    assert!(
        text.contains("(first leg)") && text.contains("(second leg)"),
        "{text}"
    );
}

#[test]
fn ladder_fits_the_terminal_width() {
    for width in [80usize, 120] {
        let out = run_env(&["flow", BUSY], &width.to_string());
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            // The legend names whole Call-IDs: unbreakable tokens may overflow.
            if line.contains("Call-ID") {
                continue;
            }
            assert!(
                line.chars().count() <= width,
                "{width}: {} chars: {line}",
                line.chars().count()
            );
        }
        // Every SIP message of the capture is drawn.
        assert_eq!(
            text.lines().filter(|l| l.contains('│')).count(),
            busy_listing().len(),
            "{text}"
        );
    }
    // Too narrow for four columns: one line per message, naming both ends.
    let out = run_env(&["flow", BUSY], "50");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("127.0.0.30 → 127.0.0.40"), "{text}");
}

#[test]
fn focus_on_a_call_id_brings_its_linked_leg() {
    // Frame 1 opens the first leg of call 1; frame 4 is XCC's second leg for it.
    let (first, second) = (call_at(1), call_at(4));
    assert_ne!(first, second);
    assert_eq!(
        analyzed_calls(&["--call-id", &first]),
        set(&[first.clone(), second.clone()])
    );
    // Selecting the second leg brings the first.
    assert_eq!(
        analyzed_calls(&["--call-id", &second]),
        set(&[first.clone(), second.clone()])
    );
    let ladder = run(&["flow", BUSY, "--call-id", &first]);
    assert!(
        ladder.contains(&format!("A = Call-ID {first} (first leg)")),
        "{ladder}"
    );
    assert!(
        ladder.contains(&format!("B = Call-ID {second} (second leg)")),
        "{ladder}"
    );
    assert!(!ladder.contains("C = "), "{ladder}");
}

#[test]
fn focus_on_a_number_matches_every_dialling_format() {
    // Call 2 (frames 283-286): caller +4989100002, Diversion 004930123457, answered 503.
    let call2 = call_at(283);
    for number in [
        "+4989100002",
        "0049 89 100002",
        "089/100002",
        "+49 30 123457",
        "030123457",
    ] {
        assert_eq!(
            analyzed_calls(&["--number", number]),
            set(std::slice::from_ref(&call2)),
            "--number {number}"
        );
    }
    // Call 3's number is in History-Info (index 1): the call and its second leg.
    assert_eq!(
        analyzed_calls(&["--number", "+4930123458"]),
        set(&[call_at(287), call_at(290)])
    );
    // Findings follow the selection: only call 2's FM002.
    let doc: serde_json::Value = serde_json::from_str(&run(&[
        "analyze",
        "--format",
        "json",
        BUSY,
        "--number",
        "+4989100002",
    ]))
    .unwrap();
    let findings: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["call_id"].as_str().unwrap()))
        .collect();
    assert_eq!(findings, vec![("FM002", call2.as_str())]);
    // An internal number matches exactly, not as the tail of a longer one.
    assert!(
        run_env(&["analyze", BUSY, "--number", "457"], "100")
            .status
            .code()
            == Some(2),
        "no call has the number 457"
    );
}

#[test]
fn focus_on_an_address() {
    let phone_call = call_at(859);
    assert_eq!(
        analyzed_calls(&["--ip", "127.0.0.30"]),
        set(std::slice::from_ref(&phone_call))
    );
    assert_eq!(
        analyzed_calls(&["--ip", "127.0.0.20"]).len(),
        9,
        "every Follow-Me leg"
    );
}

#[test]
fn focus_on_a_time_window() {
    let rows = busy_listing();
    let at = |frame: u64| rows.iter().find(|r| r.0 == frame).unwrap().1;
    // From the unrelated call's INVITE on: only that call.
    assert_eq!(
        analyzed_calls(&["--since", &rfc3339_at(at(859))]),
        set(&[call_at(859)])
    );
    // Up to the first call's second leg: call 1 and its second leg only.
    assert_eq!(
        analyzed_calls(&["--until", &rfc3339_at(at(4))]),
        set(&[call_at(1), call_at(4)])
    );
    // The same as a wall-clock time on the capture's day (UTC), to the second after it.
    let hms = &rfc3339_at(at(4) + 1.0)[11..19];
    let selected = analyzed_calls(&["--until", hms]);
    assert!(
        selected.contains(&call_at(1)) && !selected.contains(&call_at(859)),
        "--until {hms}: {selected:?}"
    );
    // A window without calls is an error, not an empty report.
    let out = run_env(&["flow", BUSY, "--until", "2000-01-01T00:00:00Z"], "100");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no call in the capture matches the selection (--until 2000-01-01T00:00:00")
    );
    let out = run_env(&["flow", BUSY, "--since", "yesterday"], "100");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn analyze_flow_draws_each_failed_call() {
    let text = run(&["analyze", "--flow", BUSY]);
    // Calls 2, 4 and 5 (503) and the phone call (486): four ladders.
    assert!(text.contains("Call flow 4 of 4 (failed):"), "{text}");
    assert!(!text.contains("Call flow 5 of"), "{text}");
    for frame in [285, 571, 575, 861] {
        assert!(
            text.lines()
                .any(|l| l.get(1..7).is_some_and(|f| f.trim() == frame.to_string())),
            "frame {frame} drawn:\n{text}"
        );
    }
    let md = run(&["analyze", "--flow", "--format", "markdown", BUSY]);
    assert!(md.contains("### Call flow 1 of 4\n\n```text\n"), "{md}");
}

#[test]
fn every_reading_command_takes_the_focus() {
    let (first, second) = (call_at(1), call_at(4));
    // messages: exactly tshark's messages of the call and its linked leg, in frame order.
    let doc: serde_json::Value = serde_json::from_str(&run(&[
        "messages",
        "--format",
        "json",
        BUSY,
        "--call-id",
        &first,
    ]))
    .unwrap();
    let frames: Vec<u64> = doc["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["frame"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = busy_listing()
        .iter()
        .filter(|r| r.5 == first || r.5 == second)
        .map(|r| r.0)
        .collect();
    assert_eq!(frames, expected);
    // The same in the table.
    let table = run(&["messages", BUSY, "--number", "+4989100002"]);
    assert!(
        table.contains(&call_at(283)[..12]) && !table.contains(&first[..12]),
        "{table}"
    );
    // calls: the selected call only.
    let doc: serde_json::Value = serde_json::from_str(&run(&[
        "calls",
        "--format",
        "json",
        BUSY,
        "--ip",
        "127.0.0.40",
    ]))
    .unwrap();
    let ids: Vec<&str> = doc["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [call_at(859)]);
    // media: the answered call 6 has RTP, the rejected call 2 none.
    let media = |id: &str| -> usize {
        let doc: serde_json::Value =
            serde_json::from_str(&run(&["media", "--format", "json", BUSY, "--call-id", id]))
                .unwrap();
        doc["media"]["rtp"].as_array().unwrap().len()
    };
    assert_eq!(media(&call_at(577)), 4, "both legs, both ways");
    assert_eq!(media(&call_at(283)), 0);
    // Standard input is read twice from its copy: the messages of the call asked for.
    let id = call_at(859);
    let out = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["messages", "-", "--call-id", &id])
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .stdin(std::fs::File::open(root().join(BUSY)).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).replace("-: ", &format!("{BUSY}: ")),
        run(&["messages", BUSY, "--call-id", &id])
    );
}
