//! `calls` and `media` of several files read them as `analyze` does: merged by time, a
//! packet seen at two capture points counted once, frames numbered through the merged
//! stream (as `mergecap` numbers them), and as a stream (calls retire as they end).

mod common;

use std::path::Path;

use serde_json::Value;

use common::{fixtures_and_corpus, sipdiag, sipdiag_wide, split_pcap, stdout, testdata, tsv};

const PBX: &str = "followme/merge-pbx-side.pcap";
const XCC: &str = "followme/merge-xcc-side.pcapng";
/// The header of the committed tshark listings.
const HEADER: &str = "frame\ttime\tsrc\tdst\ttransport\tmessage\tcseq\tcall_id";

fn json(args: &[&str]) -> (Value, Option<i32>) {
    let out = sipdiag(args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code())
}

/// A little-endian classic pcap (what the splitter reads).
fn splittable(p: &Path) -> bool {
    std::fs::read(p).is_ok_and(|d| d.len() > 24 && d[..4] == [0xd4, 0xc3, 0xb2, 0xa1])
}

/// The number of records of a classic pcap.
fn records(p: &Path) -> usize {
    let data = std::fs::read(p).unwrap();
    let mut off = 24;
    let mut n = 0;
    while off + 16 <= data.len() {
        let len = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + len;
        n += 1;
    }
    n
}

/// Whether the frames' timestamps never go back (a rotated set of such a file reads, merged
/// by time, in the file's own order).
fn in_time_order(p: &Path) -> bool {
    let data = std::fs::read(p).unwrap();
    let (mut off, mut last) = (24, (0u32, 0u32));
    while off + 16 <= data.len() {
        let sec = u32::from_le_bytes(data[off..off + 4].try_into().unwrap());
        let sub = u32::from_le_bytes(data[off + 4..off + 8].try_into().unwrap());
        if (sec, sub) < last {
            return false;
        }
        last = (sec, sub);
        let len = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + len;
    }
    off == data.len()
}

/// `calls` and `media` of every fixture and public corpus capture (classic pcap, frames in
/// time order, not damaged) cut into three files given in reverse: the calls' rows and the
/// media report of the whole file, frame numbers included. Read one after the other, as
/// before, the second and third files' frames were numbered from 1 again.
#[test]
fn calls_and_media_of_a_rotated_set_are_those_of_the_whole_file() {
    let mut compared = 0;
    for whole in fixtures_and_corpus(&["followme", "media", "calls", "diag", "ipoffice"]) {
        if !splittable(&whole) || !in_time_order(&whole) || records(&whole) < 6 {
            continue;
        }
        let name = whole.display().to_string();
        let dir = tempfile::tempdir().unwrap();
        let per = records(&whole).div_ceil(3);
        let mut parts = split_pcap(&whole, per, dir.path());
        parts.reverse();
        for (command, key) in [("calls", "calls"), ("media", "media")] {
            let (want, want_code) = json(&[command, "--format", "json", &name]);
            let mut args = vec![command, "--format", "json"];
            args.extend(parts.iter().map(String::as_str));
            let (got, code) = json(&args);
            assert_eq!(code, want_code, "{command} {name}");
            assert_eq!(got[key], want[key], "{command} {name}");
            // Each message counted once, on the file that carried it.
            let messages = |v: &Value| -> u64 {
                (v["captures"].as_array().unwrap().iter())
                    .map(|c| c["sip_messages"].as_u64().unwrap())
                    .sum()
            };
            assert_eq!(messages(&got), messages(&want), "{command} {name}");
        }
        compared += 1;
    }
    // The project's own fixtures alone give more than this.
    assert!(compared >= 40, "only {compared} captures compared");
}

/// The same Follow-Me call captured on the PBX side and on the XCC side: `calls` lists
/// each call once with each message once, its frames numbered as `mergecap` numbers the
/// two files merged (tshark's listing of that file, committed), and as `analyze` reports
/// it; the table says how the frames are numbered.
#[test]
fn calls_of_two_capture_points_count_each_message_once() {
    let (pbx, xcc) = (testdata(PBX), testdata(XCC));
    let (pbx, xcc) = (pbx.to_str().unwrap(), xcc.to_str().unwrap());
    let (v, code) = json(&["calls", "--format", "json", pbx, xcc]);
    assert_eq!(code, Some(0));
    let (a, _) = json(&["analyze", "--format", "json", pbx, xcc]);
    // tshark's listing of `mergecap -w merged.pcapng PBX XCC`: every message twice.
    let merged = tsv(&testdata("followme/merge-merged.sip.tsv"), HEADER);
    let pbx_rows = tsv(&testdata("followme/merge-pbx-side.sip.tsv"), HEADER);
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for c in calls {
        let id = c["call_id"].as_str().unwrap();
        let frames: Vec<u64> = (merged.iter())
            .filter(|r| r[7] == id)
            .map(|r| r[0].parse().unwrap())
            .collect();
        // Each message once: as many as one capture point saw.
        let once = pbx_rows.iter().filter(|r| r[7] == id).count() as u64;
        assert_eq!(c["messages"], once, "{id}");
        assert_eq!(frames.len() as u64, 2 * once, "{id}");
        assert_eq!(c["first_frame"], frames[0], "{id}");
        // The last message's first sighting.
        assert_eq!(c["last_frame"], frames[frames.len() - 2], "{id}");
        let summary = (a["calls"].as_array().unwrap().iter())
            .find(|s| s["call_id"] == id)
            .unwrap();
        assert_eq!(c["final_frame"], summary["final_frame"], "{id}");
        assert_eq!(c["final_status"], summary["final_status"], "{id}");
    }
    let messages: Vec<u64> = (v["captures"].as_array().unwrap().iter())
        .map(|c| c["sip_messages"].as_u64().unwrap())
        .collect();
    assert_eq!(messages.iter().sum::<u64>(), 9);
    for command in ["calls", "media"] {
        let text = stdout(&sipdiag_wide(&[command, pbx, xcc]));
        assert!(
            text.contains("Frames are numbered through the 2 files merged in time order")
                && text.contains("2 capture point(s), 9 packet(s) seen at two points"),
            "{command}: {text}"
        );
        // One file: nothing to say.
        let text = stdout(&sipdiag_wide(&[command, pbx]));
        assert!(!text.contains("Frames are numbered"), "{command}: {text}");
    }
    // A file that cannot be read numbers nothing: the line names the two others (the
    // error names it, exit 2); with only one other, its own numbers.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.pcap");
    std::fs::write(&bad, "not a capture\n").unwrap();
    let bad = bad.to_str().unwrap();
    // The report's words, however the lines are wrapped.
    let words =
        |o: &std::process::Output| stdout(o).split_whitespace().collect::<Vec<_>>().join(" ");
    for command in ["calls", "media", "analyze"] {
        let o = sipdiag_wide(&[command, pbx, bad, xcc]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        let text = words(&o);
        let line = format!(
            "Frames are numbered through the 2 files merged in time order, as `mergecap -w merged.pcapng {pbx} {xcc}` numbers them"
        );
        assert!(text.contains(&line), "{command}: {text}");
        assert!(!text.contains(bad), "{command}: {text}");
        let text = words(&sipdiag_wide(&[command, bad, pbx]));
        let line = format!("Frames are numbered as in {pbx}, the only file frames were read from.");
        assert!(text.contains(&line), "{command}: {text}");
    }
}

/// A focus on a rotated set selects what it selects in the whole file (found as `analyze`
/// of the files finds it, as a stream): `calls`, `media` and `extract` give the file's.
#[test]
fn a_focus_on_a_rotated_set_selects_the_calls_of_the_whole_file() {
    let whole = testdata("followme/busy-site.pcap");
    let whole = whole.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut parts = split_pcap(Path::new(whole), 40, dir.path());
    parts.reverse();
    let (all, _) = json(&["calls", "--format", "json", whole]);
    let calls = all["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 10);
    // A forwarded call (its second leg comes along) and a number.
    let id = calls[0]["call_id"].as_str().unwrap();
    for focus in [["--call-id", id], ["--number", "4989100003"]] {
        for (command, key) in [("calls", "calls"), ("media", "media")] {
            let (want, want_code) = json(&[command, "--format", "json", focus[0], focus[1], whole]);
            let mut args = vec![command, "--format", "json", focus[0], focus[1]];
            args.extend(parts.iter().map(String::as_str));
            let (got, code) = json(&args);
            assert_eq!(code, want_code, "{command} {focus:?}");
            assert_eq!(got[key], want[key], "{command} {focus:?}");
        }
        let cut_whole = dir.path().join("whole.pcapng");
        let cut_parts = dir.path().join("parts.pcapng");
        let out = sipdiag(&[
            "extract",
            focus[0],
            focus[1],
            "-o",
            cut_whole.to_str().unwrap(),
            whole,
        ]);
        assert!(out.status.success(), "{out:?}");
        let mut args = vec![
            "extract",
            focus[0],
            focus[1],
            "-o",
            cut_parts.to_str().unwrap(),
        ];
        // A section per file, in the order of their first frames: the set given in
        // reverse comes out in its own order, as the whole file's extract.
        args.extend(parts.iter().map(String::as_str));
        let out = sipdiag(&args);
        assert!(out.status.success(), "{out:?}");
        let cut_parts = cut_parts.to_str().unwrap();
        let (want, _) = json(&["calls", "--format", "json", cut_whole.to_str().unwrap()]);
        let (got, _) = json(&["calls", "--format", "json", cut_parts]);
        assert!(!want["calls"].as_array().unwrap().is_empty());
        assert_eq!(got["calls"], want["calls"], "extract {focus:?}");
        let (messages, _) = json(&["messages", "--format", "json", cut_parts]);
        let times: Vec<&str> = (messages["messages"].as_array().unwrap().iter())
            .map(|m| m["time"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }
}

/// `messages` of several files lists each file's messages in its own frame numbers, as
/// Wireshark shows that file: each row names its file (JSON `capture`; a line before the
/// file's first row in the table). One file: no name.
#[test]
fn messages_of_several_files_name_the_file_of_each_row() {
    let (pbx, xcc) = (testdata(PBX), testdata(XCC));
    let (pbx, xcc) = (pbx.to_str().unwrap(), xcc.to_str().unwrap());
    let (both, code) = json(&["messages", "--format", "json", pbx, xcc]);
    assert_eq!(code, Some(0));
    let rows = both["messages"].as_array().unwrap();
    for path in [pbx, xcc] {
        let (alone, _) = json(&["messages", "--format", "json", path]);
        let alone = alone["messages"].as_array().unwrap();
        assert!(alone.iter().all(|r| r.get("capture").is_none()));
        let named: Vec<Value> = (rows.iter())
            .filter(|r| r["capture"] == path)
            .map(|r| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("capture");
                r
            })
            .collect();
        assert_eq!(&named, alone, "{path}");
    }
    assert!(
        rows.iter()
            .all(|r| r["capture"] == pbx || r["capture"] == xcc)
    );
    let text = stdout(&sipdiag_wide(&["messages", pbx, xcc]));
    let lines: Vec<&str> = text.lines().collect();
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| *x == l)
            .unwrap_or_else(|| panic!("{text}"))
    };
    let (p, x) = (at(&format!("{pbx}:")), at(&format!("{xcc}:")));
    // Each file's nine messages follow its line.
    assert_eq!(x - p, 10, "{text}");
    assert!(
        lines[p + 1].starts_with("1 ") && lines[x + 1].starts_with("1 "),
        "{text}"
    );
    let text = stdout(&sipdiag_wide(&["messages", pbx]));
    assert!(!text.contains(&format!("{pbx}:\n")), "{text}");
}
