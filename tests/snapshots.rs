//! Snapshot tests: the exact table, JSON and markdown reports and `--help` texts are
//! pinned in `tests/snapshots/`. After an intended change, regenerate them with
//! `SIPDIAG_UPDATE_SNAPSHOTS=1 cargo test --test snapshots` and review the diff.

mod common;

use std::process::Command;

use common::root;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .expect("run sipdiag");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    let actual = actual.replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    if std::env::var_os("SIPDIAG_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs; if intended, run SIPDIAG_UPDATE_SNAPSHOTS=1 cargo test --test snapshots\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

const FM002: &str = "testdata/followme/fm002-intl00.pcap";
const SITE: &[&str] = &[
    "--country-code",
    "49",
    "--internal-length",
    "3",
    "--outside-prefix",
    "0",
];

fn analyze(format: &str, capture: &str) -> String {
    let mut args = vec!["analyze", "--format", format, capture];
    args.extend_from_slice(SITE);
    run(&args)
}

/// The many-calls fixture of a busy site: counts and verdicts first, one entry per cause.
#[test]
fn analyze_busy_site() {
    let busy = "testdata/followme/busy-site.pcap";
    snapshot("analyze-busy-site.txt", &analyze("table", busy));
    snapshot("analyze-busy-site.md", &analyze("markdown", busy));
}

#[test]
fn analyze_table() {
    snapshot("analyze-fm002.txt", &analyze("table", FM002));
    snapshot(
        "analyze-fm006.txt",
        &analyze("table", "testdata/followme/fm006-second-leg-404.pcap"),
    );
}

#[test]
fn analyze_json() {
    snapshot("analyze-fm002.json", &analyze("json", FM002));
}

#[test]
fn analyze_markdown() {
    snapshot("analyze-fm002.md", &analyze("markdown", FM002));
    snapshot(
        "analyze-fm007.md",
        &analyze("markdown", "testdata/followme/fm007-second-leg-488.pcap"),
    );
}

/// The HTML page: a diversion-format failure and a Follow-Me pair whose second leg fails,
/// each with its SVG ladder and the full text of the ladder's messages.
#[test]
fn analyze_html() {
    snapshot("analyze-fm002.html", &analyze("html", FM002));
    snapshot(
        "analyze-fm006.html",
        &analyze("html", "testdata/followme/fm006-second-leg-404.pcap"),
    );
}

#[test]
fn messages_and_calls_tables() {
    snapshot(
        "messages-udp-call.txt",
        &run(&["messages", "testdata/reader/udp-call.pcap"]),
    );
    snapshot(
        "calls-healthy.txt",
        &run(&["calls", "testdata/followme/healthy-diversion-udp.pcap"]),
    );
}

#[test]
fn help_texts() {
    snapshot("help.txt", &run(&["--help"]));
    snapshot("help-analyze.txt", &run(&["analyze", "--help"]));
    snapshot("rules.txt", &run(&["rules"]));
}
