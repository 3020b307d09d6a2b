//! `sipdiag watch`: every call judged when it has ended, as `analyze` judges it; findings
//! printed while the capture is still being written; rotated files followed; the calls
//! held follow the calls in progress.
//!
//! The oracle is `analyze` on the whole capture (itself pinned by the report baseline):
//! `watch` runs the rules that look at one call as each call ends, and those that compare
//! calls (FM001, FM005) at the end on what the calls judged showed, so it must report
//! exactly the findings `analyze` reports — same rule, call and frames — and the same
//! verdicts, the media's included (SP003, SP005 and SP006 with each unit of calls; the
//! softphone's ICE rules at the end); the capture rules (CAP…) are compared apart.

mod common;

#[path = "../benches/scale/scale_gen.rs"]
mod scale_gen;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// (Call-ID, rule, frames): each frame as (file, frame number in it).
type Key = (String, String, Vec<(String, u64)>);

/// `analyze`'s report of a capture.
fn analyze_report(path: &str) -> Value {
    let out = common::sipdiag(&["analyze", "--format", "json", path]);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// (Call-ID, rule, frames) of every finding of `analyze`'s report but the capture rules'
/// (compared apart); without the media rules' when `media` is false.
fn analyze_findings(doc: &Value, media: bool) -> BTreeSet<Key> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            let id = f["id"].as_str().unwrap_or("");
            !(id.starts_with("CAP") || !media && id.starts_with("SP"))
        })
        .map(key)
        .collect()
}

/// Each verdict as (Call-IDs, text), from `analyze`'s report or the call records of
/// `watch --verbose`.
fn verdicts<'v>(records: impl IntoIterator<Item = &'v Value>) -> BTreeSet<(Vec<String>, String)> {
    (records.into_iter())
        .flat_map(|r| r["verdicts"].as_array().into_iter().flatten())
        .map(|v| {
            let ids = v["call_ids"].as_array().unwrap();
            (
                ids.iter()
                    .map(|i| i.as_str().unwrap().to_string())
                    .collect(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A finding's key: its frame numbers with its `capture` (one file read), or its frames
/// as cited by file (several).
fn key(f: &Value) -> Key {
    let capture = f["capture"].as_str().unwrap_or("").to_string();
    (
        f["call_id"].as_str().unwrap_or("").to_string(),
        f["id"].as_str().unwrap_or("").to_string(),
        f["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| match n.as_u64() {
                Some(n) => (capture.clone(), n),
                None => (
                    n["capture"].as_str().unwrap().to_string(),
                    n["frame"].as_u64().unwrap(),
                ),
            })
            .collect(),
    )
}

/// `analyze`'s keys of one file, its frames numbered through the files `watch` read
/// (the end record's `captures`, in order): each frame as the file it fell in and its
/// number there.
fn split_over(keys: BTreeSet<Key>, end: &Value) -> BTreeSet<Key> {
    let files: Vec<(String, u64)> = end["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["frames"].as_u64().unwrap(),
            )
        })
        .collect();
    let place = |mut n: u64| {
        for (path, frames) in &files {
            if n <= *frames {
                return (path.clone(), n);
            }
            n -= frames;
        }
        panic!("frame past the files read")
    };
    keys.into_iter()
        .map(|(call, id, frames)| {
            (
                call,
                id,
                frames.into_iter().map(|(_, n)| place(n)).collect(),
            )
        })
        .collect()
}

/// The findings of `watch --format json` output, with the end record checked.
fn watch_findings(lines: &[String]) -> (BTreeSet<Key>, Value) {
    let (found, end, _) = watch_output(lines);
    (found, end)
}

/// [`watch_findings`], and whether an error-level finding was printed (a call's or one
/// on the files).
fn watch_output(lines: &[String]) -> (BTreeSet<Key>, Value, bool) {
    let mut error = false;
    let mut found = BTreeSet::new();
    let mut end = Value::Null;
    for l in lines {
        let rec: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        match rec["type"].as_str() {
            Some("call") => {
                for f in rec["findings"].as_array().unwrap() {
                    assert!(found.insert(key(f)), "a finding printed twice: {f}");
                    error |= f["severity"] == "error";
                }
                assert!(!rec["verdicts"].as_array().unwrap().is_empty() || !found.is_empty());
            }
            Some("end") => {
                assert!(end.is_null(), "two end records");
                end = rec;
            }
            other => panic!("unexpected record type {other:?}: {l}"),
        }
    }
    assert!(!end.is_null(), "no end record in {lines:?}");
    for f in end["capture_findings"].as_array().unwrap() {
        error |= f["severity"] == "error";
        // The rules that compare calls (FM001, FM005) report at the end.
        if f["id"].as_str().is_some_and(|id| !id.starts_with("CAP")) {
            assert!(found.insert(key(f)), "a finding printed twice: {f}");
        }
    }
    (found, end, error)
}

fn lines(out: &std::process::Output) -> Vec<String> {
    common::stdout(out).lines().map(str::to_string).collect()
}

#[test]
fn every_call_is_judged_as_analyze_judges_it() {
    let files = common::fixtures_and_corpus(&["followme", "ipoffice", "diag", "calls", "media"]);
    assert!(files.len() > 80, "too few captures: {}", files.len());
    let mut with_findings = 0;
    for p in &files {
        let path = p.to_str().unwrap();
        let out = common::sipdiag(&["watch", "--verbose", "--format", "json", path]);
        let (mut found, end, errors) = watch_output(&lines(&out));
        let doc = analyze_report(path);
        // A call whose messages lie further apart than a call is kept after its last
        // (timestamps years apart) is judged in pieces, each with the media of its own
        // time: its media findings and verdict are `analyze`'s only in the signalling.
        let whole = end["reopened"] == 0;
        if !whole {
            found.retain(|(_, id, _)| !id.starts_with("SP"));
        }
        let expected = split_over(analyze_findings(&doc, whole), &end);
        assert_eq!(
            found, expected,
            "{path}: watch (left) and analyze (right) differ"
        );
        if whole {
            let records: Vec<Value> = (lines(&out).iter())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let watched = verdicts(records.iter().filter(|r| r["type"] == "call"));
            assert_eq!(
                watched,
                verdicts([&doc]),
                "{path}: the verdicts of watch (left) and analyze (right) differ"
            );
        }
        // Exit code 1 exactly when an error-level finding was printed; 2 (after the
        // report) where the file cannot be read, as for analyze.
        let unreadable = common::sipdiag(&["messages", "--format", "json", path])
            .status
            .code()
            == Some(2);
        let code = if unreadable { 2 } else { i32::from(errors) };
        assert_eq!(out.status.code(), Some(code), "{path}: {end}");
        with_findings += usize::from(!found.is_empty());
    }
    assert!(
        with_findings >= 30,
        "only {with_findings} captures with findings"
    );
}

/// A classic pcap split into its file header and records: (timestamp seconds, bytes).
fn records(path: &Path) -> (Vec<u8>, Vec<(f64, Vec<u8>)>) {
    let data = std::fs::read(path).unwrap();
    assert_eq!(
        &data[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    let head = data[..24].to_vec();
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let u = |o: usize| u32::from_le_bytes(data[at + o..at + o + 4].try_into().unwrap());
        let len = u(8) as usize;
        let t = f64::from(u(0)) + f64::from(u(4)) / 1e6;
        out.push((t, data[at..at + 16 + len].to_vec()));
        at += 16 + len;
    }
    assert_eq!(at, data.len());
    (head, out)
}

/// A pcap file of `head` and `recs`.
fn file(head: &[u8], recs: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = head.to_vec();
    for (_, r) in recs {
        bytes.extend_from_slice(r);
    }
    bytes
}

/// Starts `sipdiag watch` with `args`; its standard output line by line on a channel.
fn spawn(args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipdiag");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time, UTC (as `date -u +%FT%T` prints it).
fn utc(secs: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%FT%T"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `sipdiag watch --follow PATH [--until-idle SECS] --format json`, started.
fn follow_json(path: &str, until_idle: Option<&str>) -> (Child, Receiver<String>) {
    let mut args = vec!["watch", "--follow", path, "--format", "json"];
    if let Some(secs) = until_idle {
        args.extend(["--until-idle", secs]);
    }
    spawn(&args)
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
}

/// Lines until one satisfies `want` (returned with the lines before it), or the timeout.
fn wait_for(rx: &Receiver<String>, got: &mut Vec<String>, want: impl Fn(&str) -> bool) -> bool {
    wait_within(rx, got, Duration::from_secs(60), want)
}

fn wait_within(
    rx: &Receiver<String>,
    got: &mut Vec<String>,
    limit: Duration,
    want: impl Fn(&str) -> bool,
) -> bool {
    let until = Instant::now() + limit;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                let hit = want(&l);
                got.push(l);
                if hit {
                    return true;
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn rest(rx: &Receiver<String>, got: &mut Vec<String>, child: &mut Child) {
    let status = child.wait().unwrap();
    got.extend(rx.iter());
    assert!(status.code().is_some(), "watch was killed: {status}");
}

/// `many-calls.pcap` (54 failed calls over a minute) written in chunks while `watch
/// --follow` reads it: the first call's finding comes once the capture has gone on for
/// longer than the call's linger, before the rest of the file is written; in the end every
/// call is judged as `analyze` judges the whole file.
#[test]
fn follow_prints_a_finding_before_the_capture_is_complete() {
    let src = common::testdata("followme/many-calls.pcap");
    let (head, recs) = records(&src);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.pcap");
    // The file header and ten records, the eleventh cut in the middle (as a writer
    // flushes).
    let mut first = file(&head, &recs[..10]);
    let half = recs[10].1.len() / 2;
    first.extend_from_slice(&recs[10].1[..half]);
    append(&path, &first);
    let (mut child, rx) = follow_json(path.to_str().unwrap(), Some("8"));
    let mut got = Vec::new();
    // The first call has ended (503, ACK) but may still see retransmissions: nothing yet.
    std::thread::sleep(Duration::from_millis(1500));
    got.extend(rx.try_iter());
    assert!(got.is_empty(), "judged before its linger: {got:?}");

    // On to 45 s after the first frame: the first call has lingered 32 s and waited 10 s
    // for linked legs.
    let t0 = recs[0].0;
    let upto = recs.iter().position(|(t, _)| t - t0 >= 45.0).unwrap();
    assert!(
        upto < recs.len() - 100,
        "the rest of the file is still to come"
    );
    let mut second = recs[10].1[half..].to_vec();
    for (_, r) in &recs[11..upto] {
        second.extend_from_slice(r);
    }
    append(&path, &second);
    let first_call = "ef43fda180c72a4f85e27e2d@127.0.0.10";
    assert!(
        wait_for(&rx, &mut got, |l| l.contains(first_call)),
        "no finding for the first call while the capture is incomplete: {got:?}"
    );
    let rec: Value = serde_json::from_str(got.last().unwrap()).unwrap();
    assert_eq!(rec["findings"][0]["id"], "FM002", "{rec}");
    // When the call began: its first frame's time, as `date -u` writes it.
    let t0 = recs[0].0;
    let secs = t0.trunc() as i64;
    assert!(rec["time"].as_str().unwrap().ends_with("Z"), "{rec}");
    assert_eq!(rec["time"].as_str().unwrap()[..19], *utc(secs), "{rec}");
    assert_eq!(
        rec["findings"][0]["frames"],
        serde_json::json!([1, 2, 3, 4]),
        "{rec}"
    );

    let mut third = Vec::new();
    for (_, r) in &recs[upto..] {
        third.extend_from_slice(r);
    }
    append(&path, &third);
    rest(&rx, &mut got, &mut child);
    let (found, end) = watch_findings(&got);
    assert_eq!(
        found,
        split_over(
            analyze_findings(&analyze_report(src.to_str().unwrap()), true),
            &end
        )
    );
    assert_eq!(end["calls"], 66, "{end}");
    assert_eq!(end["failed"], 54, "{end}");
    assert_eq!(end["captures"][0]["frames"], recs.len(), "{end}");
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

/// Any frame moves the clock, not only SIP: the first call of `many-calls.pcap` (a 503),
/// then only the RTP of the capture's next 50 s, written at once and left open. The call
/// is judged from the RTP's timestamps within seconds, not after the 42 s of wall clock a
/// quiet file would take.
#[test]
fn rtp_alone_moves_the_clock() {
    let src = common::testdata("followme/many-calls.pcap");
    let (head, recs) = records(&src);
    // Ethernet, IPv4, UDP: SIP is on ports 5060-5062 in this capture.
    let sip = |r: &[u8]| {
        let ip = &r[16 + 14..];
        let udp = &ip[usize::from(ip[0] & 15) * 4..];
        let port = |o: usize| u16::from_be_bytes([udp[o], udp[o + 1]]);
        (5060..=5062).contains(&port(0)) || (5060..=5062).contains(&port(2))
    };
    let t0 = recs[0].0;
    let mut bytes = head.clone();
    for (_, r) in &recs[..4] {
        assert!(sip(r));
        bytes.extend_from_slice(r);
    }
    let mut rtp = 0;
    for (t, r) in &recs[4..] {
        if !sip(r) && t - t0 < 50.0 {
            bytes.extend_from_slice(r);
            rtp += 1;
        }
    }
    assert!(rtp > 100, "{rtp} RTP packets");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtp.pcap");
    append(&path, &bytes);
    let (mut child, rx) = follow_json(path.to_str().unwrap(), None);
    let mut got = Vec::new();
    let judged = wait_within(&rx, &mut got, Duration::from_secs(15), |l| {
        l.contains("ef43fda180c72a4f85e27e2d@127.0.0.10")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(judged, "not judged from the RTP's clock: {got:?}");
}

/// Started before the writer has created the file: the watch waits for it to appear.
#[test]
fn follow_waits_for_the_file_to_appear() {
    let src = common::testdata("followme/fm002-intl00.pcap");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.pcap");
    let (mut child, rx) = follow_json(path.to_str().unwrap(), Some("3"));
    std::thread::sleep(Duration::from_millis(800));
    append(&path, &std::fs::read(&src).unwrap());
    let mut got = Vec::new();
    rest(&rx, &mut got, &mut child);
    let (found, end) = watch_findings(&got);
    assert_eq!(
        found,
        split_over(
            analyze_findings(&analyze_report(src.to_str().unwrap()), true),
            &end
        )
    );
    assert_eq!(end["captures"][0]["frames"], 4, "{end}");
    // Never created: an error naming the file once the wait is over (exit 2).
    let gone = dir.path().join("never.pcap");
    let out = common::sipdiag(&[
        "watch",
        "--follow",
        gone.to_str().unwrap(),
        "--until-idle",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never.pcap"), "{err}");
}

/// A rotated set (`tcpdump -C`: `cap.pcap`, then `cap.pcap1`): `watch --follow cap.pcap`
/// goes on into the next file when the writer starts it, numbering frames through the set
/// (as `analyze` numbers the set given together, and `mergecap -a` joins it).
#[test]
fn follow_goes_on_into_the_next_file_of_a_rotated_set() {
    let src = common::testdata("followme/many-calls.pcap");
    let (head, recs) = records(&src);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("cap.pcap");
    let b = dir.path().join("cap.pcap1");
    let cut = recs.len() / 2;
    append(&a, &file(&head, &recs[..cut]));
    let (mut child, rx) = follow_json(a.to_str().unwrap(), Some("5"));
    std::thread::sleep(Duration::from_millis(1000));
    append(&b, &file(&head, &recs[cut..]));
    let mut got = Vec::new();
    rest(&rx, &mut got, &mut child);
    let (found, end) = watch_findings(&got);
    // Every frame cited by the file it is in (the second file's from its frame 1).
    assert_eq!(
        found,
        split_over(
            analyze_findings(&analyze_report(src.to_str().unwrap()), true),
            &end
        )
    );
    assert!(
        found
            .iter()
            .any(|(_, _, frames)| frames.iter().any(|(f, _)| f == b.to_str().unwrap())),
        "some findings in the second file: {found:?}"
    );
    let files: Vec<&str> = end["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, [a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(end["captures"][1]["frames"], recs.len() - cut);
    // Both halves as analyze reads them together: the same frames.
    let whole = common::sipdiag(&[
        "analyze",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(whole.status.code(), Some(1));
}

/// A ring (`tcpdump -C N -W 2`: `ring.pcap0`, `ring.pcap1`, then `ring.pcap0` again,
/// started over): the watch goes round with the writer, reading the restarted file from
/// its start.
#[test]
fn follow_goes_round_a_ring_of_files() {
    let src = common::testdata("followme/many-calls.pcap");
    let (head, recs) = records(&src);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("ring.pcap0");
    let b = dir.path().join("ring.pcap1");
    let (k1, k2) = (recs.len() / 3, 2 * recs.len() / 3);
    let part = |from: usize, to: usize| file(&head, &recs[from..to]);
    append(&a, &part(0, k1));
    let (mut child, rx) = follow_json(a.to_str().unwrap(), Some("5"));
    std::thread::sleep(Duration::from_millis(1000));
    append(&b, &part(k1, k2));
    std::thread::sleep(Duration::from_millis(1000));
    // The writer wraps: the first file is truncated and written anew.
    std::fs::write(&a, part(k2, recs.len())).unwrap();
    let mut got = Vec::new();
    rest(&rx, &mut got, &mut child);
    let (found, end) = watch_findings(&got);
    assert_eq!(
        found,
        split_over(
            analyze_findings(&analyze_report(src.to_str().unwrap()), true),
            &end
        )
    );
    let frames: Vec<u64> = end["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["frames"].as_u64().unwrap())
        .collect();
    assert_eq!(
        frames,
        [k1 as u64, (k2 - k1) as u64, (recs.len() - k2) as u64],
        "{end}"
    );
    assert_eq!(end["calls"], 66, "{end}");
}

/// Captures of a busy site (`benches/scale`'s generator): twice the calls at the same
/// rate, the same number of calls held at once; every call judged.
#[test]
fn calls_held_follow_the_calls_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for (calls, duration) in [(2_000, 400), (4_000, 800)] {
        let s = scale_gen::Scale {
            calls,
            duration,
            hold: 20,
            long_first: false,
        };
        let path = dir.path().join(format!("scale-{calls}.pcap"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        scale_gen::write(&mut f, s).unwrap();
        drop(f);
        let out = common::sipdiag(&["watch", "--format", "json", path.to_str().unwrap()]);
        let (found, end) = watch_findings(&lines(&out));
        assert_eq!(end["calls"], calls, "{end}");
        assert_eq!(end["reopened"], 0, "{end}");
        assert!(!found.is_empty());
        peaks.push(end["peak_calls"].as_u64().unwrap());
        // No address of these calls is or may be XCC: no call can be linked with another,
        // so none waits for its legs, only for the end of the second it retired in.
        let waiting = end["peak_waiting"].as_u64().unwrap();
        assert!((1..=12).contains(&waiting), "{end}");
    }
    // Five calls a second, held 20 s, lingering 32 s: ~300 at most, whatever the total.
    assert!(peaks[0] < 400, "{peaks:?}");
    assert!(peaks[1] <= peaks[0] + 10, "{peaks:?}");
}

/// A call that may be a Follow-Me leg waits for the calls it may be linked with; one that
/// cannot be is judged as soon as it retires. XCC given (`--xcc`, one of the four
/// gateways of the scale capture): the calls to it wait 10-20 s, the others do not.
#[test]
fn only_calls_that_may_be_linked_wait_for_their_legs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scale.pcap");
    let s = scale_gen::Scale {
        calls: 2_000,
        duration: 400,
        hold: 20,
        long_first: false,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    scale_gen::write(&mut f, s).unwrap();
    drop(f);
    let path = path.to_str().unwrap();
    let end = |extra: &[&str]| {
        let mut args = vec!["watch", "--format", "json", path];
        args.extend_from_slice(extra);
        let (_, end) = watch_findings(&lines(&common::sipdiag(&args)));
        assert_eq!(end["calls"], 2_000, "{end}");
        end["peak_waiting"].as_u64().unwrap()
    };
    let alone = end(&[]);
    let held = end(&["--xcc", "10.9.0.1"]);
    // A quarter of five calls a second, waiting 10-20 s.
    assert!(
        held >= 12 && held > alone + 6,
        "{held} waiting with XCC, {alone} without"
    );
}

/// The text report: a block per failed call with its proof, then the closing line.
#[test]
fn text_blocks_and_the_closing_line() {
    let path = common::testdata("followme/fm002-intl00.pcap");
    let out = common::sipdiag_wide(&["watch", path.to_str().unwrap()]);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        // The call's first frame: 2026-11-23 06:47:29.276248 UTC (tshark -t ud).
        text.starts_with("2026-11-23 06:47:29 FAILED 8e97d7262357…@127.0.0.10 (frame 1): 503 Service Unavailable (frame 3) [FM002]\n1. [FM002 diversion-format] error: Forwarded number 004930123456 is international with 00\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "   frame 1: Diversion: <sip:004930123456@127.0.0.10>;reason=unconditional;counter=1\n"
        ),
        "{text}"
    );
    assert!(text.contains("Rewrite: ^00(\\d+)$ → +$1"), "{text}");
    assert!(
        text.contains("\n1 call judged, 1 failed; findings: FM002.\n"),
        "{text}"
    );
    // --select/--ignore as for analyze: nothing left to fail on.
    let out = common::sipdiag(&["watch", "--ignore", "FM002", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    // A finding of the end (a rule that compares calls) comes with its filter too.
    let path = common::testdata("followme/fm005-wrong-trunk.pcap");
    let text = common::stdout(&common::sipdiag_wide(&["watch", path.to_str().unwrap()]));
    assert!(
        text.contains(
            "127.0.0.20:5070.\n  Wireshark: ip.addr == 127.0.0.20 && (udp.port == 5070 || tcp.port == 5070)\n"
        ),
        "{text}"
    );
}

/// Without the `live` feature, `-i` is refused with the way to get it; `--until-idle`
/// only applies to inputs that can go quiet.
#[test]
fn refused_options_say_why() {
    #[cfg(not(feature = "live"))]
    {
        let out = common::sipdiag(&["watch", "-i", "lo", "udp", "port", "5060"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--features live"), "{err}");
    }
    let path = common::testdata("followme/fm002-intl00.pcap");
    let out = common::sipdiag(&["watch", "--until-idle", "3", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--until-idle applies to --follow and -i"),
        "{err}"
    );
}

/// The follow reader hands out exactly the frames a whole read gives, whatever the sizes
/// of the chunks the writer appends in (records and the pcapng section header cut
/// anywhere): classic pcap in both byte orders and pcapng, three chunkings each; and it
/// hands them out as they come, the first long before the writer has finished (the file
/// header is not waited on for a buffer's worth).
#[test]
fn a_file_read_as_it_grows_gives_the_frames_of_the_whole_file() {
    use sipdiag::capture::follow::{Follow, FollowOptions};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    type Seen = Vec<(u64, i64, u32, u32, Vec<u8>)>;
    let grab = |seen: &mut Seen, f: &sipdiag::capture::Frame<'_>| {
        seen.push((
            f.number,
            f.time.secs,
            f.time.nanos,
            f.linktype,
            f.data.to_vec(),
        ))
    };
    for rel in [
        "followme/fm006-second-leg-404.pcap",
        "reader/bigendian.pcap",
        "reader/pcapng-records.pcapng",
        "followme/merge-xcc-side.pcapng",
    ] {
        let src = common::testdata(rel);
        let bytes = std::fs::read(&src).unwrap();
        let mut whole = Seen::new();
        let summary =
            sipdiag::capture::read_capture(src.to_str().unwrap(), |f| grab(&mut whole, f)).unwrap();
        assert!(!whole.is_empty(), "{rel}");
        for seed in [1u64, 7, 1234] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("growing");
            std::fs::write(&path, b"").unwrap();
            let done = Arc::new(AtomicBool::new(false));
            let writer = {
                let (path, bytes, done) = (path.clone(), bytes.clone(), Arc::clone(&done));
                std::thread::spawn(move || {
                    // Chunks of 1 to 700 bytes from a small linear congruential sequence.
                    let mut x = seed;
                    let mut at = 0;
                    while at < bytes.len() {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let n = ((x >> 33) % 700 + 1) as usize;
                        let end = (at + n).min(bytes.len());
                        append(&path, &bytes[at..end]);
                        at = end;
                        std::thread::sleep(Duration::from_millis(15));
                    }
                    done.store(true, Ordering::SeqCst);
                })
            };
            let follow = Follow::open(
                &path,
                FollowOptions {
                    poll: Duration::from_millis(2),
                    until_idle: Some(Duration::from_millis(400)),
                },
            )
            .unwrap();
            let mut seen = Seen::new();
            let mut first_before_done = None;
            let got =
                sipdiag::capture::read_capture_following(path.to_str().unwrap(), follow, |f| {
                    first_before_done.get_or_insert(!done.load(Ordering::SeqCst));
                    grab(&mut seen, f)
                })
                .unwrap();
            assert_eq!(
                first_before_done,
                Some(true),
                "{rel}, seed {seed}: the first frame came only once the file was complete"
            );
            writer.join().unwrap();
            assert_eq!(got.frames, summary.frames, "{rel}, seed {seed}");
            assert!(seen == whole, "{rel}, seed {seed}: frames differ");
            assert!(
                got.anomalies.is_empty(),
                "{rel}, seed {seed}: {:?}",
                got.anomalies
            );
        }
    }
}

/// Ctrl-C (SIGINT) ends a `--follow` watch as `--until-idle` would: the call read so far
/// is judged at once (not 42 s later, when the quiet capture's clock would have retired
/// it) and the end record is printed.
#[test]
fn ctrl_c_ends_a_follow_and_judges_the_calls_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.pcap");
    std::fs::copy(common::testdata("followme/fm002-intl00.pcap"), &path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args([
            "watch",
            "--follow",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sipdiag");
    // The handler is in place once it says what it follows.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("sipdiag: following"), "{line}");
    let started = Instant::now();
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("sh");
    assert!(kill.success());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("watch did not end on Ctrl-C")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    let (found, end, _) = watch_output(&lines(&out));
    assert!(
        found.iter().any(|(_, rule, _)| rule == "FM002"),
        "{found:?}"
    );
    assert_eq!(end["calls"], 1, "{end}");
    // FM002 is an error: exit code 1, as at the end of a file.
    assert_eq!(out.status.code(), Some(1));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(
        rest.contains("stopped; judging the calls in progress"),
        "{rest}"
    );
}

/// Several files read one after the other: frames are numbered through them, and each
/// finding says where its frames are (the text's legend, JSON's cited frames), each the
/// frame number Wireshark shows in that file.
#[test]
fn frames_of_several_files_are_cited_by_file() {
    let a = "testdata/followme/fm006-second-leg-404.pcap";
    let b = "testdata/followme/fm002-intl00.pcap";
    let out = common::sipdiag_wide(&["watch", a, b]);
    let text = common::stdout(&out);
    assert!(
        text.contains(&format!(
            "Frames are numbered through the 2 files read one after the other, as `mergecap -a -w all.pcapng {a} {b}` numbers them.\nFrames cited, by file:\n  frame 10: {b} frame 1\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("  frame 4: {a} frame 4\n")),
        "{text}"
    );
    // JSON: each frame as each file alone gives it.
    let finding = |files: &[&str], id: &str| -> Value {
        let mut args = vec!["watch", "--format", "json"];
        args.extend_from_slice(files);
        let out = common::sipdiag(&args);
        let recs: Vec<Value> = lines(&out)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let found = recs
            .iter()
            .flat_map(|r| r["findings"].as_array().into_iter().flatten())
            .find(|f| f["id"] == id);
        found.unwrap_or_else(|| panic!("{id} in {recs:?}")).clone()
    };
    for (path, id) in [(a, "FM006"), (b, "FM002")] {
        let both = finding(&[a, b], id);
        assert!(both["capture"].is_null(), "{both}");
        let alone = finding(&[path], id);
        assert_eq!(alone["capture"], path);
        assert_eq!(key(&both).2, key(&alone).2, "{id}");
    }
}

/// The ids of the capture findings (CAP…) of a report's findings or an end record's.
fn capture_ids(findings: &Value) -> BTreeSet<String> {
    (findings.as_array().into_iter().flatten())
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("CAP"))
        .map(str::to_string)
        .collect()
}

#[test]
fn softphone_signalling_is_noted_and_not_taken_for_a_capture_without_sip() {
    let dir = common::testdata("media");
    let mut files: Vec<_> = (std::fs::read_dir(&dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    let mut softphone = 0;
    for p in &files {
        let path = p.to_str().unwrap();
        for port in [None, Some("9999")] {
            let mut args = vec!["--format", "json", path];
            if let Some(port) = port {
                args.extend(["--softphone-port", port]);
            }
            let run = |cmd: &str| {
                let mut a = vec![cmd];
                a.extend(&args);
                common::sipdiag(&a)
            };
            let analyze: Value = serde_json::from_slice(&run("analyze").stdout).unwrap();
            let media: Value = serde_json::from_slice(&run("media").stdout).unwrap();
            let out = run("watch");
            let (_, end, errors) = watch_output(&lines(&out));
            // CAP002 (no SIP) exactly where `analyze` says so: not on a softphone's
            // signalling, which the watch does not judge.
            assert_eq!(
                capture_ids(&end["capture_findings"]),
                capture_ids(&analyze["findings"]),
                "{path} {port:?}: {end}"
            );
            assert_eq!(out.status.code(), Some(i32::from(errors)), "{path}");
            // The first softphone segment, as the media stage records the connections.
            let first = (media["media"]["softphone"].as_array().into_iter().flatten())
                .filter_map(|s| s["first_frame"].as_u64())
                .min();
            let seen = &end["softphone_signalling"];
            assert_eq!(seen["frame"].as_u64(), first, "{path} {port:?}: {end}");
            if let Some(first) = first {
                softphone += 1;
                assert_eq!(seen["capture"], path);
                assert!(
                    seen["server"].as_str().unwrap().ends_with(":2230"),
                    "{seen}"
                );
                let text = common::stdout(&common::sipdiag(&["watch", path]));
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    text.contains(&format!("{path} frame {first}"))
                        && text
                            .contains("its media (ICE, RTP) is judged with the capture's findings"),
                    "{text}"
                );
            }
        }
    }
    // The softphone captures of testdata/media, with the default port only.
    assert!(softphone >= 8, "{softphone} softphone captures");
}

/// A call answered without media, judged before the capture shows any UDP: its SP003
/// finding waits (the capture may be one filtered to signalling, which gets one finding
/// on all such calls), then is printed as the call's own as soon as UDP has come, before
/// the calls judged later, as `analyze` reports it.
#[test]
fn a_call_without_media_before_any_udp_is_reported_once_udp_comes() {
    // `reused-ports`: call 1 (frames 1-7) has no media; calls 2 and 3 reuse its ports and
    // send RTP (call 3 one way). Here call 2's set-up (frames 8-12) comes 60 s later and
    // everything after it 120 s later, so call 1 is judged while the capture holds no
    // UDP yet.
    let src = common::testdata("media/reused-ports.pcap");
    let (head, recs) = records(&src);
    let mut bytes = head.clone();
    for (i, (_, r)) in recs.iter().enumerate() {
        let mut r = r.clone();
        let later = match i {
            0..7 => 0,
            7..12 => 60,
            _ => 120,
        };
        let secs = u32::from_le_bytes(r[..4].try_into().unwrap()) + later;
        r[..4].copy_from_slice(&secs.to_le_bytes());
        bytes.extend_from_slice(&r);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late-udp.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let path = path.to_str().unwrap();
    let out = common::sipdiag(&["watch", "--format", "json", path]);
    let records: Vec<Value> = (lines(&out).iter())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids = |r: &Value| -> Vec<String> {
        (r["findings"].as_array().into_iter().flatten())
            .map(|f| format!("{} {}", f["id"].as_str().unwrap(), f["call_id"]))
            .collect()
    };
    let first = "reused-ports-1-sip-uas-silent-1@127.0.0.70";
    let third = "reused-ports-3-sip-uas-silent-1@127.0.0.70";
    let at = |id: &str, call: &str| {
        records
            .iter()
            .position(|r| ids(r).contains(&format!("{id} \"{call}\"")))
            .unwrap_or_else(|| panic!("no {id} on {call}: {records:?}"))
    };
    assert!(
        at("SP003", first) < at("SP005", third),
        "the waiting SP003 finding came after a later call's: {records:?}"
    );
    let sp003 = &records[at("SP003", first)]["findings"][0];
    assert!(
        sp003["title"]
            .as_str()
            .unwrap()
            .contains("answered, but no media at all"),
        "{sp003}"
    );
    // The capture's count of UDP as the finding was printed, not the 0 it waited with.
    assert!(sp003["evidence"]["udp_datagrams_in_capture"].as_u64() > Some(0));
    let (found, end, _) = watch_output(&lines(&out));
    assert_eq!(
        found,
        split_over(analyze_findings(&analyze_report(path), true), &end)
    );
}

/// Softphone media outside SIP calls, judged at the end as `analyze` judges it: RTP on a
/// pair STUN validated that flows one way only (SP005).
#[test]
fn softphone_rtp_one_way_is_judged_at_the_end() {
    // `ice-ok-rtp`: ICE checks answered both ways, then 100 RTP packets each way between
    // 127.0.0.60:30010 and 127.0.0.50:49200 (tshark); here without the 100 from
    // 127.0.0.50:49200 (Ethernet, IPv4, UDP; RTP version 2).
    let (head, recs) = records(&common::testdata("media/ice-ok-rtp.pcap"));
    let kept: Vec<(f64, Vec<u8>)> = (recs.into_iter())
        .filter(|(_, r)| {
            let ip = &r[16 + 14..];
            let udp = &ip[usize::from(ip[0] & 15) * 4..];
            !(ip[9] == 17
                && ip[12..16] == [127, 0, 0, 50]
                && udp[..2] == 49200u16.to_be_bytes()
                && udp[8] == 0x80)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-way.pcap");
    std::fs::write(&path, file(&head, &kept)).unwrap();
    let path = path.to_str().unwrap();
    let out = common::sipdiag(&["watch", "--format", "json", path]);
    let (found, end, _) = watch_output(&lines(&out));
    let expected = split_over(analyze_findings(&analyze_report(path), true), &end);
    assert!(
        expected.iter().any(|(_, id, _)| id == "SP005"),
        "{expected:?}"
    );
    assert_eq!(found, expected);
}
