//! The capture reader against tshark: message counts on the public corpus, and message by
//! message (frame number, Call-ID, method/status) on corpus captures and every fixture.
//! Expected values were generated once by `testdata/oracle/generate.sh` and
//! `testdata/reader/oracle.sh` and are committed as data.

mod common;

use common::*;

/// Corpus files where sipdiag knowingly differs from tshark, with the reason.
fn known_differences() -> Vec<(String, String)> {
    tsv(&testdata("oracle/known-differences.tsv"), "path\t")
        .into_iter()
        .map(|r| (r[0].clone(), r.get(1).cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn corpus_message_counts_match_tshark() {
    let Some(corpus) = corpus() else { return };
    let rows = tsv(&testdata("oracle/sip-counts.tsv"), "path\t");
    assert!(rows.len() >= 70, "oracle lists {} captures", rows.len());
    let known = known_differences();
    let mut same = 0;
    let mut unexpected = Vec::new();
    for r in &rows {
        let path = corpus.join(&r[0]);
        let expected: i64 = r[1].parse().unwrap();
        let got = match sipdiag::app::scan(path.to_str().unwrap(), &mut NullSink) {
            Ok(rep) => rep.sip_messages as i64,
            Err(_) => -1,
        };
        if got == expected {
            same += 1;
        } else if !known.iter().any(|(p, _)| p == &r[0]) {
            unexpected.push(format!("{}: tshark {expected}, sipdiag {got}", r[0]));
        }
    }
    assert!(
        unexpected.is_empty(),
        "differences not explained in known-differences.tsv:\n{}",
        unexpected.join("\n")
    );
    let ratio = same as f64 / rows.len() as f64;
    assert!(ratio >= 0.95, "only {same}/{} captures match", rows.len());
    // Every listed difference must still be real, so the list stays honest.
    for (p, why) in &known {
        let r = rows
            .iter()
            .find(|r| &r[0] == p)
            .expect("listed file is in the oracle");
        let got = sipdiag::app::scan(corpus.join(p).to_str().unwrap(), &mut NullSink)
            .map(|x| x.sip_messages as i64)
            .unwrap_or(-1);
        assert_ne!(
            got.to_string(),
            r[1],
            "{p} now matches tshark; remove it from known-differences ({why})"
        );
    }
}

struct NullSink;

impl sipdiag::app::Sink for NullSink {
    fn message(&mut self, _msg: sipdiag::sip::SipMessage) {}
}

#[test]
fn corpus_frames_match_tshark_message_by_message() {
    let Some(corpus) = corpus() else { return };
    let dir = testdata("oracle/messages");
    let known = known_differences();
    let mut compared = 0;
    let mut linktypes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let name = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".tsv")
            .replace("__", "/");
        if known.iter().any(|(p, _)| p == &name) {
            continue;
        }
        let (msgs, report) = messages(&corpus.join(&name));
        let expected = oracle_keys(&tsv(&file, "frame\t"));
        assert_eq!(
            message_keys(&msgs),
            expected,
            "{name}: frames differ from tshark"
        );
        linktypes.insert(format!("{:?}", report.format));
        compared += 1;
    }
    assert!(compared >= 10, "compared {compared} captures");
}

#[test]
fn fixture_frames_match_tshark() {
    let dir = testdata("reader/expected");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let name = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".tsv")
            .to_string();
        let (msgs, _) = messages(&testdata(&format!("reader/{name}")));
        let expected = oracle_keys(&tsv(&file, "frame\t"));
        assert_eq!(
            message_keys(&msgs),
            expected,
            "{name}: frames differ from tshark"
        );
        compared += 1;
    }
    assert!(compared >= 15, "compared {compared} fixtures");
}

/// Every frame that carried part of a message is listed (Wireshark's "Reassembled in"
/// chain), ascending, with the completing frame last.
#[test]
fn pcapng_records_that_are_not_packets_are_numbered_as_wireshark_does() {
    // tshark 4.0.17 lists 10 frames: 7 packets, a journal entry and two custom blocks
    // (testdata/reader/README.md); the SIP frame numbers are in its expected file.
    let path = testdata("reader/pcapng-records.pcapng");
    let rep = sipdiag::app::scan(path.to_str().unwrap(), &mut NullSink).unwrap();
    assert_eq!((rep.frames, rep.sip_messages), (10, 7));
    assert!(rep.anomalies.is_empty(), "{:?}", rep.anomalies);
}

#[test]
fn reassembled_messages_list_their_frames() {
    for (fixture, method, frames) in [
        ("reader/tcp-split.pcap", "INVITE", vec![4u64, 6, 8]),
        ("reader/tcp-ooo-retrans.pcap", "INVITE", vec![4, 6]),
        ("reader/ipfrag-v4.pcap", "INVITE", vec![1, 2]),
        ("reader/ipfrag-v6.pcap", "INVITE", vec![1, 2]),
        ("reader/tcp-two-in-one.pcap", "BYE", vec![12]),
    ] {
        let (msgs, _) = messages(&testdata(fixture));
        let m = msgs
            .iter()
            .find(|m| m.method() == Some(method))
            .unwrap_or_else(|| panic!("{fixture}: no {method}"));
        assert_eq!(m.frames(), frames, "{fixture}");
        assert_eq!(m.frame, *frames.last().unwrap(), "{fixture}");
    }
}

/// `analyze` reads one capture file twice; a named pipe (a shell's `<(zcat …)`) can be
/// read only once: it is analysed holding every call, and gives the file's report.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_and_gives_the_file_s_report() {
    let file = testdata("followme/fm002-intl00.pcap");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.pcap");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let bytes = std::fs::read(&file).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, bytes).unwrap())
    };
    let piped = sipdiag(&[
        "analyze",
        "-f",
        "json",
        "--fail-on",
        "none",
        fifo.to_str().unwrap(),
    ]);
    writer.join().unwrap();
    let whole = sipdiag(&[
        "analyze",
        "-f",
        "json",
        "--fail-on",
        "none",
        file.to_str().unwrap(),
    ]);
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let calls = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (
            v["verdicts"].clone(),
            v["findings"].as_array().unwrap().len(),
        )
    };
    assert_eq!(calls(&piped), calls(&whole));
    assert!(calls(&whole).1 > 0);
}
