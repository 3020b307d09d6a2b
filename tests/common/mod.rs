//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sipdiag::app::{self, Sink};

pub mod points;
use sipdiag::sip::SipMessage;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// `../shared/captures` beside the repository, if present.
pub fn corpus() -> Option<PathBuf> {
    let p = root().join("../shared/captures");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent; the public corpus checks need ../shared beside the repository",
            p.display()
        );
        None
    }
}

/// The project's fixtures in `dirs` (under `testdata/`) and every public corpus capture
/// (when `../shared` is present), sorted.
pub fn fixtures_and_corpus(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.to_string_lossy().to_string();
            if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                files.push(p);
            }
        }
    }
    if let Some(corpus) = corpus() {
        let mut dirs = vec![corpus];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if p.is_dir() {
                    dirs.push(p);
                } else if name.contains(".pcap") || name.ends_with(".cap") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}

/// Runs `cmd` with the bytes of `input` written into a pipe on its standard input (as
/// `cat INPUT | …`), from a thread, so that a large output cannot block the writing.
/// sipdiag may stop reading early (damage, an error): a broken pipe is its choice; any
/// other write error fails the test.
pub fn piped_into(cmd: &mut Command, input: &Path) -> Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sipdiag");
    let mut pipe = child.stdin.take().unwrap();
    let bytes = std::fs::read(input).unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, &bytes));
    let out = child.wait_with_output().expect("run sipdiag");
    match writer.join().unwrap() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing the pipe: {e}"),
        _ => out,
    }
}

/// Splits a classic pcap into files of `per` records each, as `editcap -c` does.
pub fn split_pcap(pcap: &Path, per: usize, dir: &Path) -> Vec<String> {
    let data = std::fs::read(pcap).unwrap();
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let (header, mut off) = (&data[..24], 24);
    let mut files = Vec::new();
    let mut cur = header.to_vec();
    let mut n = 0;
    while off + 16 <= data.len() {
        let len = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        cur.extend_from_slice(&data[off..off + 16 + len]);
        off += 16 + len;
        n += 1;
        if n % per == 0 || off + 16 > data.len() {
            let p = dir.join(format!("rot_{:05}.pcap", files.len()));
            std::fs::write(&p, std::mem::replace(&mut cur, header.to_vec())).unwrap();
            files.push(p.to_string_lossy().into_owned());
        }
    }
    files
}

/// Runs the real binary.
pub fn sipdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run sipdiag")
}

/// Runs the real binary with 200 columns to fit its tables into (no wrapping).
pub fn sipdiag_wide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .expect("run sipdiag")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Collect(Vec<SipMessage>);

impl Sink for Collect {
    fn message(&mut self, msg: SipMessage) {
        self.0.push(msg);
    }
}

/// Every SIP message of a capture, through the library.
pub fn messages(path: &Path) -> (Vec<SipMessage>, app::CaptureReport) {
    let mut c = Collect(Vec::new());
    let r = app::scan(path.to_str().unwrap(), &mut c).expect("readable capture");
    (c.0, r)
}

/// Reads a tab-separated file, skipping comments and a header row starting with `header`.
pub fn tsv(path: &Path, header: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with(header))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// (frame, call-id, method-or-status) of each message, sorted: the shape the tshark
/// oracle files hold.
pub fn message_keys(msgs: &[SipMessage]) -> Vec<(u64, String, String)> {
    let mut v: Vec<_> = msgs
        .iter()
        .map(|m| {
            // tshark shows a header value up to its first NUL byte.
            let id = m.call_id().unwrap_or("");
            let id = id.split('\0').next().unwrap_or("");
            (m.frame, id.to_string(), m.kind())
        })
        .collect();
    v.sort();
    v
}

pub fn oracle_keys(rows: &[Vec<String>]) -> Vec<(u64, String, String)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r[0].parse::<u64>().expect("frame number"),
                r.get(1).cloned().unwrap_or_default(),
                r.get(2).cloned().unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Rule ids of an `analyze` JSON report's findings, in report order.
pub fn ids(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The first finding of rule `id` in an `analyze` JSON report.
pub fn finding<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {}", v["findings"]))
}

/// The frames a finding cites.
pub fn frames(f: &serde_json::Value) -> Vec<u64> {
    f["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// The suggestion a finding refers to (schema 2: each suggestion once, by index).
pub fn suggestion<'a>(v: &'a serde_json::Value, f: &serde_json::Value) -> &'a serde_json::Value {
    let i = f["suggestion"].as_u64().expect("suggestion index") as usize;
    &v["suggestions"][i]
}

/// An SCTP packet (common header and one DATA chunk, RFC 9260 §3.3.1) between ports
/// `src` and `dst`: `flags` B (2) and E (1), the chunk's TSN and stream, padded to 4
/// bytes.
pub fn sctp_data(src: u16, dst: u16, flags: u8, tsn: u32, stream: u16, user: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&src.to_be_bytes());
    p.extend_from_slice(&dst.to_be_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&[0, flags]);
    p.extend_from_slice(&((16 + user.len()) as u16).to_be_bytes());
    p.extend_from_slice(&tsn.to_be_bytes());
    p.extend_from_slice(&stream.to_be_bytes());
    p.extend_from_slice(&[0; 6]);
    p.extend_from_slice(user);
    while p.len() % 4 != 0 {
        p.push(0);
    }
    p
}
