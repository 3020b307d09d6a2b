//! A capture gives the same report whether it is read as pcap, as pcapng, gzip-compressed
//! or from standard input: each fixture is rewritten as pcapng (a small writer below:
//! one interface per link type, nanosecond timestamps) and as gzip, and `analyze
//! --format json` must say the same of all four, file names and container aside.

use std::io::Write;
use std::process::{Command, Stdio};

use sipdiag::capture::read_capture;

use crate::common::{sipdiag, testdata};

/// UDP and TCP signalling, IPv6 fragments, Follow-Me findings, a call with RTP.
const FIXTURES: &[&str] = &[
    "followme/fm006-second-leg-404.pcap",
    "followme/healthy-diversion-udp.pcap",
    "reader/tcp-ooo-retrans.pcap",
    "reader/ipfrag-v6.pcap",
    "media/sip-rtp-both.pcap",
];

struct Record {
    nanos: u64,
    linktype: u32,
    data: Vec<u8>,
    orig_len: u32,
}

fn records(path: &str) -> Vec<Record> {
    let mut v = Vec::new();
    read_capture(path, |f| {
        v.push(Record {
            nanos: (f.time.secs as u64) * 1_000_000_000 + u64::from(f.time.nanos),
            linktype: f.linktype,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        })
    })
    .expect("fixture reads");
    v
}

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let len = (12 + body.len().div_ceil(4) * 4) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + (4 - body.len() % 4) % 4, 0);
    out.extend_from_slice(&len.to_le_bytes());
}

/// The records as a little-endian pcapng: a section header, one interface description
/// per link type (if_tsresol = 9, nanoseconds) and an enhanced packet block per record.
fn pcapng(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0A0D_0D0A, &shb);
    let mut interfaces: Vec<u32> = Vec::new();
    for r in records {
        let id = match interfaces.iter().position(|l| *l == r.linktype) {
            Some(i) => i,
            None => {
                let mut idb = (r.linktype as u16).to_le_bytes().to_vec();
                idb.extend_from_slice(&[0, 0]);
                idb.extend_from_slice(&262_144u32.to_le_bytes());
                idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
                block(&mut out, 1, &idb);
                interfaces.push(r.linktype);
                interfaces.len() - 1
            }
        };
        let mut epb = (id as u32).to_le_bytes().to_vec();
        epb.extend_from_slice(&((r.nanos >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(r.nanos as u32).to_le_bytes());
        epb.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&r.orig_len.to_le_bytes());
        epb.extend_from_slice(&r.data);
        block(&mut out, 6, &epb);
    }
    out
}

/// The JSON report with the input's name (a path, or `-` for standard input) replaced
/// wherever it is quoted, and the container format left out.
fn report(json: &[u8], path: &str) -> serde_json::Value {
    fn rename(v: &mut serde_json::Value, path: &str) {
        match v {
            serde_json::Value::String(s) => {
                if path == "-" {
                    if s == "-" {
                        *s = "CAPTURE".into();
                    } else if let Some(rest) = s.strip_prefix("-: ") {
                        *s = format!("CAPTURE: {rest}");
                    }
                } else {
                    *s = s.replace(path, "CAPTURE");
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| rename(x, path)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| rename(x, path)),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(json).expect("JSON report");
    rename(&mut v, path);
    for c in v["captures"].as_array_mut().expect("captures") {
        assert_eq!(c["path"], "CAPTURE");
        c.as_object_mut().unwrap().remove("format");
    }
    v
}

/// The normalised report of `analyze --format json`, which must have read the file as
/// the container `format` (`pcap` or `pcapng`).
fn analyze(path: &str, format: &str) -> serde_json::Value {
    let out = sipdiag(&["analyze", path, "--format", "json", "--fail-on", "none"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(raw["captures"][0]["format"], format, "{path}");
    report(&out.stdout, path)
}

#[test]
fn same_report_from_pcap_pcapng_gzip_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    for rel in FIXTURES {
        let pcap = testdata(rel);
        let pcap = pcap.to_str().unwrap();
        let bytes = std::fs::read(pcap).unwrap();
        let recs = records(pcap);
        assert!(!recs.is_empty(), "{rel}: no frames");
        let expected = analyze(pcap, "pcap");
        assert!(
            expected["captures"][0]["sip_messages"].as_u64() > Some(0),
            "{rel}: no SIP"
        );

        let ng = dir.path().join("capture.pcapng");
        std::fs::write(&ng, pcapng(&recs)).unwrap();
        let ng = ng.to_str().unwrap();
        let from_ng = analyze(ng, "pcapng");
        assert_eq!(from_ng, expected, "{rel} as pcapng");
        // The copy holds the same frames: what the writer wrote is what was read.
        let again = records(ng);
        assert_eq!(again.len(), recs.len());
        assert!(
            again
                .iter()
                .zip(&recs)
                .all(|(a, b)| a.nanos == b.nanos && a.data == b.data)
        );

        let gz = dir.path().join("capture.pcap.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(
            analyze(gz.to_str().unwrap(), "pcap"),
            expected,
            "{rel} gzip-compressed"
        );

        let mut child = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
            .args(["analyze", "-", "--format", "json", "--fail-on", "none"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feed = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output().unwrap();
        feed.join().unwrap().unwrap();
        assert_eq!(out.status.code(), Some(0), "{rel} on stdin");
        assert_eq!(
            report(&out.stdout, "-"),
            expected,
            "{rel} on standard input"
        );
    }
}
