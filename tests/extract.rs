//! `sipdiag extract`: the frames written are those tshark's view of the input says belong
//! to the selected calls (testdata/extract/interleaved.expected.tsv, by oracle.py), compared
//! as (timestamp, length) with sipdiag's own reader of the output.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use common::{sipdiag, stdout, testdata, tsv};

/// (time as seconds.nanoseconds, length on the wire, link type) of every frame.
fn frames(path: &Path) -> Vec<(String, u32, u32)> {
    let mut v = Vec::new();
    sipdiag::capture::read_capture(path.to_str().unwrap(), |f| {
        v.push((
            format!("{}.{:09}", f.time.secs, f.time.nanos),
            f.orig_len,
            f.linktype,
        ))
    })
    .unwrap();
    v
}

/// A selection: name, extract arguments, Call-IDs, expected (time, length) of the frames.
type Selection = (String, Vec<String>, BTreeSet<String>, Vec<(String, u32)>);

/// The selections and, for each, the Call-IDs it selects and the expected (time, length)
/// of the frames, sorted.
fn expected() -> Vec<Selection> {
    let rows = tsv(&testdata("extract/interleaved.expected.tsv"), "selection\t");
    tsv(&testdata("extract/selections.tsv"), "name\t")
        .into_iter()
        .map(|s| {
            let mut want: Vec<(String, u32)> = rows
                .iter()
                .filter(|r| r[0] == s[0])
                .map(|r| (r[2].clone(), r[3].parse().unwrap()))
                .collect();
            want.sort();
            assert!(!want.is_empty(), "{}: oracle rows", s[0]);
            let args = s[1].split(' ').map(str::to_string).collect();
            let ids = s[2].split(',').map(str::to_string).collect();
            (s[0].clone(), args, ids, want)
        })
        .collect()
}

/// Runs extract on `input`; the output's (time, length) sorted, and the Call-IDs it names.
fn extract(input: &Path, args: &[String]) -> (Vec<(String, u32)>, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("call.pcapng");
    let mut a: Vec<&str> = vec!["extract", "-o", out.to_str().unwrap()];
    a.extend(args.iter().map(String::as_str));
    a.push(input.to_str().unwrap());
    let o = sipdiag(&a);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{a:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    let ids = text
        .split_once("call(s): ")
        .unwrap_or_else(|| panic!("{text}"))
        .1
        .trim()
        .split(", ")
        .map(str::to_string)
        .collect();
    let got = frames(&out);
    assert!(
        got.iter().all(|f| f.2 == 1),
        "the Ethernet interface is kept"
    );
    let mut got: Vec<(String, u32)> = got.into_iter().map(|(t, l, _)| (t, l)).collect();
    got.sort();
    (got, ids)
}

#[test]
fn extract_writes_the_frames_tshark_attributes_to_the_calls() {
    let input = testdata("extract/interleaved.pcapng");
    for (name, args, ids, want) in expected() {
        let (got, named) = extract(&input, &args);
        assert_eq!(named, ids, "{name}: the calls selected");
        assert_eq!(got.len(), want.len(), "{name}: frame count");
        assert_eq!(got, want, "{name}: frames");
    }
}

#[test]
fn extract_reads_gzip() {
    let bytes = std::fs::read(testdata("extract/interleaved.pcapng")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("interleaved.pcapng.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&bytes).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let (name, args, ids, want) = expected().remove(0);
    let (got, named) = extract(&gz, &args);
    assert_eq!((named, got), (ids, want), "{name} from gzip");
}

#[test]
fn several_captures_give_a_section_each() {
    // Each of these fixtures holds one selected call (both legs) and nothing else, so the
    // extract is both files whole, one after the other in the order of their first frames
    // (the second given was recorded first).
    let a = testdata("followme/healthy-diversion-udp.pcap");
    let b = testdata("media/sip-rtp-both.pcap");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("two.pcapng");
    let o = sipdiag(&[
        "extract",
        "--call-id",
        "be84a8f872a54b74b8967c27@127.0.0.10",
        "--call-id",
        "sip-rtp-both-1@127.0.0.70",
        "-o",
        out.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (first_a, first_b) = (frames(&a)[0].0.clone(), frames(&b)[0].0.clone());
    assert!(first_b < first_a, "{first_b} {first_a}");
    let mut want = frames(&b);
    want.extend(frames(&a));
    assert_eq!(frames(&out), want);
    let bytes = std::fs::read(&out).unwrap();
    let sections = bytes
        .windows(4)
        .filter(|w| w == &[0x0a, 0x0d, 0x0d, 0x0a])
        .count();
    assert!(sections >= 2, "two section headers");
}

#[test]
fn extract_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.pcapng");
    let o = out.to_str().unwrap();
    let input = testdata("extract/interleaved.pcapng");
    let i = input.to_str().unwrap();
    for (args, says) in [
        (
            vec!["extract", "--call-id", "nope@nowhere", "-o", o, i],
            "no call in the capture matches the selection (--call-id nope@nowhere)",
        ),
        (vec!["extract", "-o", o, i], "extract needs a selection"),
        (
            vec!["extract", "--call-id", "x", "-o", i, i],
            "that is one of the captures",
        ),
        (
            vec![
                "extract",
                "--call-id",
                "x",
                "-o",
                o,
                "/no/such/capture.pcap",
            ],
            "/no/such/capture.pcap: cannot open",
        ),
    ] {
        let before = std::fs::read(i).unwrap();
        let r = sipdiag(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing written");
        assert_eq!(std::fs::read(i).unwrap(), before);
    }
}

/// The messages of `sipdiag messages -f json ARGS`, without their frame numbers (an
/// extract numbers its frames anew).
fn messages_without_frames(args: &[&str]) -> Vec<serde_json::Value> {
    let mut a = vec!["messages", "-f", "json"];
    a.extend_from_slice(args);
    let o = sipdiag(&a);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{a:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let o = m.as_object_mut().unwrap();
            o.remove("frame");
            o.remove("frames");
            m
        })
        .collect()
}

#[test]
fn corpus_extracts_keep_every_message_of_the_call() {
    // On public captures (IP-fragmented SIP, SIP over TCP): what `messages --call-id X`
    // lists on the capture is what `messages` lists on the extract, message for message.
    let Some(corpus) = common::corpus() else {
        return;
    };
    // The INVITE of this call came in two IP fragments (frames 264 and 265): without both,
    // the extract would not hold it.
    let fragmented = "0f3963159ae00e25d610045796b52d01@0:0:0:0:0:0:0:0";
    for (capture, calls, also) in [
        ("goffinet/private-test-sip.pcapng", 3, Some(fragmented)),
        ("heplify/sip_ipv4_tcp.pcap", 1, None),
        ("goffinet/SIP-Call-with-Proxy-Server.pcap", 1, None),
    ] {
        let path = corpus.join(capture);
        let p = path.to_str().unwrap();
        let o = sipdiag(&["calls", "-f", "json", p]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut ids: Vec<String> = v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .take(calls)
            .map(|c| c["call_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), calls, "{capture}");
        ids.extend(also.map(str::to_string));
        for id in ids {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("x.pcapng");
            let o = out.to_str().unwrap();
            let r = sipdiag(&["extract", "--call-id", &id, "-o", o, p]);
            assert_eq!(
                r.status.code(),
                Some(0),
                "{capture} {id}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            let want = messages_without_frames(&["--call-id", &id, p]);
            assert!(!want.is_empty());
            assert_eq!(messages_without_frames(&[o]), want, "{capture} {id}");
        }
    }
}
