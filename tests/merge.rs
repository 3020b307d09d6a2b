//! Several capture points of one incident read merged: the same Follow-Me call captured
//! on the PBX side and the XCC side (testdata/followme/merge-*, made by make.sh with a
//! tcpdump on each end of a veth pair), and rotated file sets read as one file.
//!
//! tshark is the oracle: `merge-pbx-side.sip.tsv` and `merge-xcc-side.sip.tsv` list each
//! side's SIP messages, `merge-merged.sip.tsv` those of the two merged by mergecap (every
//! message twice, numbered as sipdiag numbers the merged stream).

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const PBX: &str = "followme/merge-pbx-side.pcap";
const XCC: &str = "followme/merge-xcc-side.pcapng";

fn json(args: &[&str]) -> (Value, Option<i32>) {
    let out = sipdiag(args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code())
}

/// tshark rows: (frame, message, cseq, call-id).
fn rows(name: &str) -> Vec<(u64, String, String, String)> {
    tsv(&testdata(&format!("followme/{name}")), "frame\t")
        .into_iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[5].clone(),
                r[6].clone(),
                r[7].clone(),
            )
        })
        .collect()
}

#[test]
fn each_message_once_and_both_capture_points_cited() {
    let (pbx, xcc) = (testdata(PBX), testdata(XCC));
    let (pbx, xcc) = (pbx.to_str().unwrap(), xcc.to_str().unwrap());
    let (v, code) = json(&["analyze", "--format", "json", pbx, xcc]);
    assert_eq!(code, Some(1));
    let pbx_rows = rows("merge-pbx-side.sip.tsv");
    let xcc_rows = rows("merge-xcc-side.sip.tsv");
    let merged_rows = rows("merge-merged.sip.tsv");
    // The fixture: every message seen at both points, so mergecap's file has each twice.
    assert_eq!(pbx_rows.len(), 9);
    assert_eq!(xcc_rows.len(), 9);
    assert_eq!(merged_rows.len(), 18);
    // sipdiag counts each message once.
    let messages: u64 = v["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sip_messages"].as_u64().unwrap())
        .sum();
    assert_eq!(messages, 9);
    assert_eq!(v["summary"]["calls"], 2);
    assert_eq!(v["summary"]["followme_linked"], 1);

    // Frame numbers count through the merged stream as mergecap numbers it: each call's
    // INVITE and final answer at the first sighting of that message in tshark's listing
    // of the mergecap file.
    let first = |call: &str, msg: &str| {
        merged_rows
            .iter()
            .find(|r| r.3 == call && r.1 == msg)
            .map(|r| r.0)
            .unwrap()
    };
    for c in v["calls"].as_array().unwrap() {
        let id = c["call_id"].as_str().unwrap();
        assert_eq!(c["invite_frame"], first(id, "INVITE"), "{id}");
        assert_eq!(c["final_frame"], first(id, "404"), "{id}");
    }

    // FM006 on the second leg's 404, cited at both capture points by file and frame.
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "FM006")
        .expect("FM006");
    assert!(f["capture"].is_null());
    let cited: Vec<(String, u64)> = f["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["capture"].as_str().unwrap().to_string(),
                c["frame"].as_u64().unwrap(),
            )
        })
        .collect();
    let leg2 = &pbx_rows
        .iter()
        .find(|r| r.1 == "404" && r.2 == "1 INVITE" && r.3.ends_with("@10.99.0.20"))
        .unwrap();
    let at = |rows: &[(u64, String, String, String)]| {
        rows.iter()
            .find(|r| r.1 == leg2.1 && r.3 == leg2.3)
            .unwrap()
            .0
    };
    assert!(
        cited.contains(&(pbx.to_string(), at(&pbx_rows))),
        "{cited:?}"
    );
    assert!(
        cited.contains(&(xcc.to_string(), at(&xcc_rows))),
        "{cited:?}"
    );
    // Every frame cited is a pair: the same message in the other file.
    let msg_of = |path: &str, n: u64| {
        let rows = if path == pbx { &pbx_rows } else { &xcc_rows };
        let r = rows.iter().find(|r| r.0 == n).unwrap();
        (r.1.clone(), r.2.clone(), r.3.clone())
    };
    let on = |side: &str| -> Vec<_> {
        let mut m: Vec<_> = cited
            .iter()
            .filter(|c| c.0 == side)
            .map(|c| msg_of(&c.0, c.1))
            .collect();
        m.sort();
        m
    };
    assert_eq!(on(pbx), on(xcc));
    assert_eq!(on(pbx).len() * 2, cited.len());

    // The table names the files of the frames it cites.
    let out = sipdiag_wide(&["analyze", pbx, xcc]);
    let text = stdout(&out);
    assert!(
        text.contains("2 capture point(s), 9 packet(s) seen at two points counted once"),
        "{text}"
    );
    let proof = f["proof"][0]["frame"].as_u64().unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("  frame {proof}: ")))
        .unwrap_or_else(|| panic!("no legend for frame {proof}: {text}"));
    assert!(
        line.contains(&format!("{pbx} frame {}", at(&pbx_rows)))
            && line.contains(&format!("{xcc} frame {}", at(&xcc_rows))),
        "{line}"
    );

    // Markdown too, the paths quoted.
    let md = stdout(&sipdiag(&["analyze", "--format", "markdown", pbx, xcc]));
    assert!(
        md.contains(&format!(
            "- frame {proof}: `{pbx}` frame {}, `{xcc}` frame {}",
            at(&pbx_rows),
            at(&xcc_rows)
        )),
        "{md}"
    );

    // Given the other way round: the same diagnosis, each message still once.
    let (w, _) = json(&["analyze", "--format", "json", xcc, pbx]);
    let ids = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&w), ids(&v));
    assert_eq!(
        w["captures"][0]["sip_messages"].as_u64().unwrap()
            + w["captures"][1]["sip_messages"].as_u64().unwrap(),
        9
    );
}

/// The report without what names the files read.
fn without_paths(mut v: Value) -> Value {
    v["captures"] = Value::Null;
    for f in v["findings"].as_array_mut().unwrap() {
        f["capture"] = Value::Null;
    }
    v
}

#[test]
fn a_rotated_set_gives_the_report_of_the_whole_file() {
    for (name, per) in [("followme/busy-site.pcap", 40), (PBX, 4)] {
        let whole = testdata(name);
        let dir = tempfile::tempdir().unwrap();
        let mut parts = split_pcap(&whole, per, dir.path());
        assert!(parts.len() >= 3, "{name}: {parts:?}");
        let (want, want_code) = json(&["analyze", "--format", "json", whole.to_str().unwrap()]);
        // In any order: read by time, one capture point, numbered through.
        parts.reverse();
        let mut args = vec!["analyze", "--format", "json"];
        args.extend(parts.iter().map(String::as_str));
        let (mut got, code) = json(&args);
        assert_eq!(code, want_code, "{name}");
        // Each finding cites its frames in the piece they are in, numbered in that piece:
        // piece k (from 0) holds the whole file's frames k·per+1 … (k+1)·per.
        for f in got["findings"].as_array_mut().unwrap() {
            let whole_numbers: Vec<Value> = f["frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let k = parts.len()
                        - 1
                        - parts
                            .iter()
                            .position(|p| c["capture"] == p.as_str())
                            .unwrap();
                    Value::from(k as u64 * per as u64 + c["frame"].as_u64().unwrap())
                })
                .collect();
            f["frames"] = Value::Array(whole_numbers);
        }
        assert_eq!(without_paths(got), without_paths(want), "{name}");
        // The table says so.
        let mut args = vec!["analyze"];
        args.extend(parts.iter().map(String::as_str));
        let text = stdout(&sipdiag_wide(&args));
        assert!(
            text.contains(&format!("{} files merged in time order", parts.len()))
                && text.contains("1 capture point(s), 0 packet(s)"),
            "{text}"
        );
    }
}

/// Each file's SIP message count is its own: two captures of different calls read
/// together count what each holds alone (the second used to show 0, all of the stream's
/// messages on the first).
#[test]
fn each_file_counts_its_own_sip_messages() {
    let files = [
        "followme/fm002-intl00.pcap",
        "followme/fm006-second-leg-404.pcap",
    ];
    let count = |paths: &[&str]| -> Vec<u64> {
        let mut args = vec!["analyze", "--format", "json"];
        args.extend_from_slice(paths);
        let (v, _) = json(&args);
        (v["captures"].as_array().unwrap().iter())
            .map(|c| c["sip_messages"].as_u64().unwrap())
            .collect()
    };
    let paths: Vec<String> = files
        .iter()
        .map(|f| testdata(f).to_str().unwrap().to_string())
        .collect();
    let alone: Vec<u64> = paths.iter().map(|p| count(&[p])[0]).collect();
    assert!(alone.iter().all(|&n| n > 0), "{alone:?}");
    assert_eq!(count(&[&paths[0], &paths[1]]), alone);
    assert_eq!(count(&[&paths[1], &paths[0]]), [alone[1], alone[0]]);
}

#[test]
fn a_rotated_side_and_the_other_side_merge_as_two_points() {
    let dir = tempfile::tempdir().unwrap();
    let parts = split_pcap(&testdata(PBX), 4, dir.path());
    let xcc = testdata(XCC);
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(parts.iter().map(String::as_str));
    args.push(xcc.to_str().unwrap());
    let (v, _) = json(&args);
    let (whole, _) = json(&[
        "analyze",
        "--format",
        "json",
        testdata(PBX).to_str().unwrap(),
        xcc.to_str().unwrap(),
    ]);
    let messages = |v: &Value| -> u64 {
        v["captures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sip_messages"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(messages(&v), 9);
    assert_eq!(v["calls"], whole["calls"]);
    // The 404 of the second leg is the 2nd frame of the second piece (frames 5-8).
    let f = &v["findings"][0];
    assert_eq!(f["id"], "FM006");
    assert!(
        f["frames"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"capture": parts[1], "frame": 2})),
        "{}",
        f["frames"]
    );
}

#[test]
fn an_unreadable_file_among_them_exits_2_after_the_report_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("xcc.pcap");
    std::fs::write(&bad, b"not a capture\n").unwrap();
    let pbx = testdata(PBX);
    let out = sipdiag(&[
        "analyze",
        "--format",
        "json",
        pbx.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("xcc.pcap") && err.contains("not a pcap or pcapng"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["captures"].as_array().unwrap().len(), 1);
    assert_eq!(v["captures"][0]["sip_messages"], 9);
    // Still read as several files: frames cited by file.
    let f = &v["findings"][0];
    assert_eq!(f["id"], "FM006");
    assert!(
        f["frames"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["capture"] == pbx.to_str().unwrap())
    );
}

#[test]
fn a_damaged_file_is_cited_in_its_own_frame_numbers() {
    // The truncated copy of fm002-intl00 was captured after healthy-diversion-udp: its
    // frames come second in the merged stream.
    let early = testdata("followme/healthy-diversion-udp.pcap");
    let cut = testdata("followme/cap-followme-truncated.pcap");
    let (alone, _) = json(&["analyze", "--format", "json", cut.to_str().unwrap()]);
    let last_good = alone["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CAP001")
        .unwrap()["frames"][0]
        .as_u64()
        .unwrap();
    let (v, _) = json(&[
        "analyze",
        "--format",
        "json",
        early.to_str().unwrap(),
        cut.to_str().unwrap(),
    ]);
    let cap001 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CAP001")
        .unwrap();
    assert_eq!(
        cap001["frames"],
        serde_json::json!([{"capture": cut.to_str().unwrap(), "frame": last_good}])
    );
    // The call of the damaged file is judged knowing its file is damaged (FM002 without
    // XCC's answer), as when the file is read alone, and cited in that file.
    let fm002 = |v: &Value| -> Value {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "FM002")
            .unwrap_or_else(|| panic!("no FM002: {}", v["findings"]))["frames"]
            .clone()
    };
    let want: Vec<Value> = fm002(&alone)
        .as_array()
        .unwrap()
        .iter()
        .map(|n| serde_json::json!({"capture": cut.to_str().unwrap(), "frame": n}))
        .collect();
    assert_eq!(fm002(&v), Value::Array(want));
}

/// A little-endian classic pcap taken apart: its file header, its whole records, and
/// what follows the last of them (a record cut short).
struct Pcap {
    header: Vec<u8>,
    records: Vec<Record>,
    rest: Vec<u8>,
}

/// One record: its 16-byte header (time, lengths) and the frame's bytes.
struct Record {
    header: Vec<u8>,
    data: Vec<u8>,
}

impl Pcap {
    fn read(path: &Path) -> Pcap {
        let pcap = std::fs::read(path).unwrap();
        assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
        let mut off = 24;
        let mut records = Vec::new();
        while off + 16 <= pcap.len() {
            let len = u32::from_le_bytes(pcap[off + 8..off + 12].try_into().unwrap()) as usize;
            if off + 16 + len > pcap.len() {
                break;
            }
            records.push(Record {
                header: pcap[off..off + 16].to_vec(),
                data: pcap[off + 16..off + 16 + len].to_vec(),
            });
            off += 16 + len;
        }
        Pcap {
            header: pcap[..24].to_vec(),
            records,
            rest: pcap[off..].to_vec(),
        }
    }

    /// The time of each whole record, in microseconds.
    fn times(&self) -> Vec<i64> {
        self.records.iter().map(|r| micros(&r.header)).collect()
    }
}

/// A record header's time in microseconds.
fn micros(h: &[u8]) -> i64 {
    let s = u32::from_le_bytes(h[..4].try_into().unwrap());
    let us = u32::from_le_bytes(h[4..8].try_into().unwrap());
    i64::from(s) * 1_000_000 + i64::from(us)
}

/// `name` (a classic pcap of testdata) without record `drop` (1-based, 0: none), its
/// times moved so that its first frame comes 500 µs after the first frame of `beside`:
/// the two interleave when merged.
fn interleaved_copy(name: &str, drop: usize, beside: &str, dir: &Path) -> String {
    let p = Pcap::read(&testdata(name));
    let shift = Pcap::read(&testdata(beside)).times()[0] + 500 - p.times()[0];
    let moved = |h: &[u8]| {
        let t = micros(h) + shift;
        let mut h = h.to_vec();
        h[..4].copy_from_slice(&((t / 1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((t % 1_000_000) as u32).to_le_bytes());
        h
    };
    let mut out = p.header.clone();
    for (i, r) in p.records.iter().enumerate() {
        if i + 1 != drop {
            out.extend(moved(&r.header));
            out.extend(&r.data);
        }
    }
    // A record cut short stays at the end (its time moved when its header is whole).
    if p.rest.len() >= 16 {
        out.extend(moved(&p.rest[..16]));
        out.extend(&p.rest[16..]);
    } else {
        out.extend(&p.rest);
    }
    let path = dir.join(name.replace('/', "-"));
    std::fs::write(&path, out).unwrap();
    path.to_string_lossy().into_owned()
}

/// A damaged copy of a fixture and what it shows when read alone.
struct Damaged {
    fixture: &'static str,
    /// The record left out (1-based; 0: none).
    drop: usize,
    /// Its CAP findings read alone: (rule, anomaly kind, the one frame cited).
    alone: &'static [(&'static str, &'static str, u64)],
}

/// The CAP findings of an `analyze` JSON report.
fn cap_findings(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("CAP"))
        .cloned()
        .collect()
}

#[test]
fn a_capture_finding_names_the_file_and_frames_it_came_from() {
    // A clean capture and a damaged one whose frames interleave with it in time, given in
    // either order: each finding about the damage names the damaged file, and cites, and
    // says, that file's own frame numbers, exactly as the damaged file read alone does;
    // what the clean file holds adds nothing.
    const CLEAN: &str = "reader/udp-call.pcap";
    let dir = tempfile::tempdir().unwrap();
    let clean = testdata(CLEAN);
    let clean = clean.to_str().unwrap();
    let (alone, _) = json(&["analyze", "--format", "json", clean]);
    assert!(cap_findings(&alone).is_empty(), "{}", alone["findings"]);
    let cases = [
        // tcp-split.pcap's record 6 carries the middle segment of the INVITE (bytes
        // 144-438 of its three segments): the INVITE, begun in frame 4, never completes,
        // and the hole is before the third segment, now frame 7.
        Damaged {
            fixture: "reader/tcp-split.pcap",
            drop: 6,
            alone: &[("CAP004", "sip-incomplete", 4), ("CAP004", "tcp-gap", 7)],
        },
        // ipfrag-v4.pcap's record 1 is the INVITE's first fragment: the second fragment,
        // now frame 1, never completes a datagram.
        Damaged {
            fixture: "reader/ipfrag-v4.pcap",
            drop: 1,
            alone: &[("CAP004", "ip-fragments-incomplete", 1)],
        },
        // truncated.pcap ends in the middle of the record after frame 5.
        Damaged {
            fixture: "reader/truncated.pcap",
            drop: 0,
            alone: &[("CAP001", "truncated", 5)],
        },
    ];
    for case in cases {
        let name = case.fixture;
        let damaged = interleaved_copy(name, case.drop, CLEAN, dir.path());
        let (alone, _) = json(&["analyze", "--format", "json", &damaged]);
        let alone = cap_findings(&alone);
        let got: Vec<(&str, &str, Vec<u64>)> = alone
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap(),
                    f["evidence"]["anomaly"].as_str().unwrap(),
                    frames(f),
                )
            })
            .collect();
        let want: Vec<(&str, &str, Vec<u64>)> =
            (case.alone.iter()).map(|w| (w.0, w.1, vec![w.2])).collect();
        assert_eq!(got, want, "{name} read alone");
        let clean_times = Pcap::read(Path::new(clean)).times();
        let damaged_times = Pcap::read(Path::new(&damaged)).times();
        for files in [[clean, damaged.as_str()], [damaged.as_str(), clean]] {
            let (v, _) = json(&["analyze", "--format", "json", files[0], files[1]]);
            // The merge interleaves the two (on equal times the file given first wins):
            // frame n of the damaged file is frame n + (clean frames before it) of the
            // merged stream, as mergecap numbers it.
            let clean_first = files[0] == clean;
            let merged_number = |n: u64| -> u64 {
                let t = damaged_times[n as usize - 1];
                let before = (clean_times.iter())
                    .filter(|&&c| c < t || (clean_first && c == t))
                    .count() as u64;
                n + before
            };
            let merged = cap_findings(&v);
            assert_eq!(merged.len(), alone.len(), "{name} {files:?}: {merged:#?}");
            for (m, a) in merged.iter().zip(&alone) {
                let cited: Vec<Value> = frames(a)
                    .iter()
                    .map(|n| serde_json::json!({"capture": damaged, "frame": n}))
                    .collect();
                assert_eq!(m["frames"], Value::Array(cited), "{name} {files:?}");
                for key in ["id", "title", "capture", "message", "evidence"] {
                    assert_eq!(m[key], a[key], "{name} {files:?}: {key}");
                }
                // The Wireshark filter counts through the merged stream.
                let n = frames(a)[0];
                let clean_frames = clean_times.len() as u64;
                assert!(
                    merged_number(n) > n && merged_number(n) < n + clean_frames,
                    "{name} {files:?}: frame {n} has clean frames on both sides"
                );
                assert_eq!(
                    m["wireshark_filter"],
                    format!("frame.number == {}", merged_number(n)),
                    "{name} {files:?}"
                );
            }
            // The table: the finding names the damaged file, the legend its frames.
            let text = stdout(&sipdiag_wide(&["analyze", files[0], files[1]]));
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            for a in &alone {
                assert!(
                    words(&text).contains(&words(a["message"].as_str().unwrap()))
                        && text.contains(&format!("   Capture: {damaged}\n")),
                    "{name} {files:?}: {text}"
                );
                for n in frames(a) {
                    assert!(
                        text.lines().any(|l| l.starts_with("  frame ")
                            && l.ends_with(&format!(": {damaged} frame {n}"))),
                        "{name} {files:?}: no legend for frame {n}: {text}"
                    );
                }
            }
        }
    }
}

#[test]
fn fragmented_sip_is_quoted_in_the_frame_numbers_of_its_file() {
    // CAP005 writes its message from the fragmented flow itself: merged with a capture
    // whose frames come first, the fragments' file is named, and the message quotes them
    // as that file numbers them (as the file read alone does), while the frames cited and
    // the Wireshark filter count through the merged stream.
    const CLEAN: &str = "reader/udp-call.pcap";
    const FRAGMENTED: &str = "followme/cap005-followme-fragmented.pcap";
    let dir = tempfile::tempdir().unwrap();
    let clean = testdata(CLEAN);
    let clean = clean.to_str().unwrap();
    let fragmented = interleaved_copy(FRAGMENTED, 0, CLEAN, dir.path());
    let cap005 = |v: &Value| -> Vec<Value> {
        (cap_findings(v).into_iter())
            .filter(|f| f["id"] == "CAP005")
            .collect()
    };
    let (alone, _) = json(&["analyze", "--format", "json", &fragmented]);
    let alone = cap005(&alone);
    // The second leg's INVITE, in frames 4 and 5 (followme/sip-fragments.tsv).
    assert_eq!(alone.len(), 1, "{alone:#?}");
    let alone = &alone[0];
    assert_eq!(frames(alone), [4, 5]);
    let message = alone["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{fragmented}: 1 SIP message(s) over UDP"))
            && message
                .contains("the largest, INVITE of 1613 bytes, came in 2 fragments (frames 4, 5)."),
        "{message}"
    );
    let clean_times = Pcap::read(Path::new(clean)).times();
    let fragmented_times = Pcap::read(Path::new(&fragmented)).times();
    for files in [[clean, fragmented.as_str()], [fragmented.as_str(), clean]] {
        let (v, _) = json(&["analyze", "--format", "json", files[0], files[1]]);
        let merged = cap005(&v);
        assert_eq!(merged.len(), 1, "{files:?}: {merged:#?}");
        let m = &merged[0];
        for key in ["id", "title", "capture", "message"] {
            assert_eq!(m[key], alone[key], "{files:?}: {key}");
        }
        let cited: Vec<Value> = [4, 5]
            .iter()
            .map(|n| serde_json::json!({"capture": fragmented, "frame": n}))
            .collect();
        assert_eq!(m["frames"], Value::Array(cited), "{files:?}");
        // The clean capture's frames before the fragments come first in the merged
        // stream (the fragmented copy starts 500 µs after its first frame).
        let before = |n: usize| {
            let t = fragmented_times[n - 1];
            clean_times.iter().filter(|&&c| c <= t).count()
        };
        assert!(before(4) > 0);
        assert_eq!(
            m["wireshark_filter"],
            format!("frame.number in {{{}, {}}}", 4 + before(4), 5 + before(5)),
            "{files:?}"
        );
        // The table says the same, and its legend places the cited frames in the file.
        let text = stdout(&sipdiag_wide(&["analyze", files[0], files[1]]));
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words(&text).contains(&words(message)), "{files:?}: {text}");
        for n in [4, 5] {
            assert!(
                text.lines().any(|l| l.starts_with("  frame ")
                    && l.ends_with(&format!(": {fragmented} frame {n}"))),
                "{files:?}: no legend for frame {n}: {text}"
            );
        }
    }
}

#[test]
fn the_html_ladder_of_merged_captures_shows_each_message_text() {
    let (pbx, xcc) = (testdata(PBX), testdata(XCC));
    let out = sipdiag(&[
        "analyze",
        "-f",
        "html",
        pbx.to_str().unwrap(),
        xcc.to_str().unwrap(),
    ]);
    let page = String::from_utf8(out.stdout).unwrap();
    // The ladder's frame numbers count through the merged stream; each arrow's text is read
    // again from the file and frame it came from.
    assert!(page.contains("<svg"), "no ladder drawn");
    assert!(
        page.contains("SIP/2.0 404"),
        "the 404's full text is missing"
    );
    assert!(
        !page.contains("Full text not available") && !page.contains("could not be read again"),
        "a message text was not found"
    );
}

/// Two capture points that see every packet, their frames alternating: the index that
/// names each merged frame's file and number outgrows what it keeps in memory and is
/// read back from its temporary file. Every frame a finding cites is found at both
/// points under its own number, and the report is the one made with the index held in
/// memory (no temporary directory: every call held too).
#[test]
fn two_points_that_alternate_cite_both_sightings_of_every_frame() {
    let one = testdata("followme/many-calls.pcap");
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-point.pcap");
    std::fs::write(&other, points::second_point(&std::fs::read(&one).unwrap())).unwrap();
    let (one, other) = (one.to_str().unwrap(), other.to_str().unwrap());
    let args = ["analyze", "--format", "json", one, other];
    let (v, code) = json(&args);
    assert_eq!(code, Some(1));
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 10, "{v}");
    let mut cited = 0;
    for f in findings.iter().filter(|f| f["capture"].is_null()) {
        let frames = f["frames"].as_array().unwrap();
        assert!(!frames.is_empty(), "{f}");
        // In pairs: each sighting at one point, then the other, with the same number.
        for pair in frames.chunks(2) {
            let files: Vec<&Value> = pair.iter().map(|c| &c["capture"]).collect();
            assert!(
                files.contains(&&Value::from(one)) && files.contains(&&Value::from(other)),
                "{f}"
            );
            assert_eq!(pair[0]["frame"], pair[1]["frame"], "{f}");
            cited += 1;
        }
    }
    assert!(cited >= 20, "{cited}");
    let held = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("TMPDIR", dir.path().join("absent"))
        .output()
        .unwrap();
    assert_eq!(held.status.code(), Some(1));
    let held: Value = serde_json::from_slice(&held.stdout).unwrap();
    assert_eq!(held, v);
}
