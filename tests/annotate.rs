//! `analyze --annotate OUT.pcapng`, read back by tshark and by sipdiag itself: the
//! comments sit exactly on the frames the findings cite, and every frame, timestamp and
//! interface of the input is still there.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{corpus, sipdiag, stdout, testdata};

fn have_tshark() -> bool {
    let ok = Command::new("tshark").arg("-v").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: tshark is not installed; the --annotate read-back needs it");
    }
    ok
}

/// tshark's fields of every frame, one line per frame.
fn tshark_fields(path: &Path, filter: Option<&str>, fields: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=a"]);
    // A separator no finding title contains, to split several comments on one frame.
    cmd.args(["-E", "aggregator=\u{1e}"]);
    if let Some(f) = filter {
        cmd.args(["-Y", f]);
    }
    for f in fields {
        cmd.args(["-e", f]);
    }
    let o = cmd.output().expect("run tshark");
    // A capture cut short is read up to the cut, by tshark as by sipdiag.
    let cut = String::from_utf8_lossy(&o.stderr).contains("cut short in the middle of a packet");
    assert!(
        o.status.success() || cut,
        "tshark -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Comments by frame number, as tshark reads them.
fn comments(path: &Path) -> BTreeMap<u64, Vec<String>> {
    tshark_fields(
        path,
        Some("frame.comment"),
        &["frame.number", "frame.comment"],
    )
    .into_iter()
    .map(|l| {
        let (n, c) = l.split_once('\t').unwrap();
        (
            n.parse().unwrap(),
            c.split('\u{1e}').map(str::to_string).collect(),
        )
    })
    .collect()
}

/// The `messages` array of `sipdiag messages -f json`.
fn messages(path: &Path) -> serde_json::Value {
    let o = sipdiag(&["messages", "-f", "json", path.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["messages"].clone()
}

/// Annotates `input`, and checks the output against the input and the report.
fn check(input: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("annotated.pcapng");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let plain = sipdiag(&["analyze", "-f", "json", "--fail-on", "none", i]);
    let annotated = sipdiag(&[
        "analyze",
        "-f",
        "json",
        "--fail-on",
        "none",
        "--annotate",
        o,
        i,
    ]);
    assert_eq!(
        annotated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&annotated.stderr)
    );
    assert_eq!(
        stdout(&plain),
        stdout(&annotated),
        "{i}: the report is unchanged"
    );
    let report: serde_json::Value = serde_json::from_slice(&annotated.stdout).unwrap();

    // The comments: those the input had, then one per finding citing the frame.
    let mut expected = comments(input);
    for f in report["findings"].as_array().unwrap() {
        let text = format!(
            "sipdiag {} {}: {}",
            f["id"].as_str().unwrap(),
            f["slug"].as_str().unwrap(),
            f["title"].as_str().unwrap()
        );
        for n in f["frames"].as_array().unwrap() {
            expected
                .entry(n.as_u64().unwrap())
                .or_default()
                .push(text.clone());
        }
    }
    assert_eq!(comments(&out), expected, "{i}: comments");

    // Every frame, with its time, lengths and link type.
    let fields = [
        "frame.number",
        "frame.time_epoch",
        "frame.len",
        "frame.cap_len",
        "frame.encap_type",
        "frame.protocols",
    ];
    let (a, b) = (
        tshark_fields(input, None, &fields),
        tshark_fields(&out, None, &fields),
    );
    assert!(!a.is_empty(), "{i}: tshark reads frames");
    assert_eq!(a.len(), b.len(), "{i}: frame count");
    assert_eq!(a, b, "{i}: frames");

    // sipdiag reads the same messages with the same frame numbers.
    assert_eq!(messages(input), messages(&out), "{i}: messages");
}

#[test]
fn annotated_fixtures_read_back() {
    if !have_tshark() {
        return;
    }
    for f in [
        "followme/fm002-intl00.pcap",
        "followme/fm006-second-leg-404.pcap",
        "followme/cap005-followme-fragmented.pcap",
        "followme/healthy-history-info-tcp.pcap",
        "diag/mixed-linktypes.pcapng",
        "reader/pcapng-records.pcapng",
        "reader/nsec.pcap",
        "reader/bigendian.pcap",
        "reader/gzipped.pcap.gz",
        "reader/truncated.pcap",
    ] {
        check(&testdata(f));
    }
}

#[test]
fn annotated_corpus_captures_read_back() {
    let Some(corpus) = corpus() else { return };
    if !have_tshark() {
        return;
    }
    for f in [
        "goffinet/sip-488-Not-Acceptable-Here-codec-null.pcapng",
        "goffinet/private-test-sip.pcapng",
        "goffinet/SIP-Call-with-Proxy-Server.pcap",
    ] {
        check(&corpus.join(f));
    }
}

#[test]
fn annotate_comments_the_fm002_frames() {
    // Independent of tshark: the comment text on the evidence frames, read with sipdiag's
    // own reader of pcapng options.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.pcapng");
    let input = testdata("followme/fm002-intl00.pcap");
    let o = sipdiag(&[
        "analyze",
        "--annotate",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "FM002 is an error");
    let bytes = std::fs::read(&out).unwrap();
    let needle =
        b"sipdiag FM002 diversion-format: Forwarded number 004930123456 is international with 00";
    let n = bytes.windows(needle.len()).filter(|w| w == needle).count();
    assert_eq!(n, 4, "one comment on each of the four frames FM002 cites");
    assert!(!dir.path().join("a.pcapng.partial").exists());
}

#[test]
fn annotate_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.pcapng");
    let o = out.to_str().unwrap();
    let one = testdata("followme/fm002-intl00.pcap");
    let two = testdata("followme/fm006-second-leg-404.pcap");
    let (one, two) = (one.to_str().unwrap(), two.to_str().unwrap());
    for (args, says) in [
        (
            vec!["analyze", "--annotate", o, one, two],
            "give one capture file, not 2",
        ),
        (
            vec!["analyze", "--annotate", one, one],
            "that is the capture being analysed",
        ),
    ] {
        let before = std::fs::read(one).unwrap();
        let r = sipdiag(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(r.stdout.is_empty(), "{args:?}: no report");
        assert_eq!(
            std::fs::read(one).unwrap(),
            before,
            "the input is untouched"
        );
        assert!(!out.exists());
    }
    // An output that cannot be created: exit 2, naming it.
    let bad = dir.path().join("no/such/dir/a.pcapng");
    let r = sipdiag(&["analyze", "--annotate", bad.to_str().unwrap(), one]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no/such/dir/a.pcapng"));
}
