//! Hostile captures against the caps of README "Limits": floods of TCP connections, IP
//! fragments and media flows, oversized SIP bodies and header blocks. Each capture is
//! written here with small caps set by flags, so that it stays small; each test checks
//! the anomaly (kind, count, first frame), the CAP006 finding, and that what the cap did
//! not touch is still analysed.

mod common;
#[path = "limits/pcap.rs"]
mod pcap;

use std::path::Path;

use common::*;
use pcap::{ACK, Addr, PSH, Pcap, SYN};
use serde_json::Value;

use pcap::written as write;

/// The closing record of `watch --format json ARGS…` (its last line).
fn watch_end(args: &[&str]) -> Value {
    let mut all = vec!["watch", "--format", "json"];
    all.extend_from_slice(args);
    let out = common::stdout(&sipdiag(&all));
    let last = out
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output: {all:?}"));
    serde_json::from_str(last).unwrap()
}

fn analyze(path: &Path, flags: &[&str]) -> Value {
    analyze_files(&[path], flags, 0)
}

/// [`analyze`] holding every call until the end (`--in-memory`), as with several files,
/// standard input or `--flow`: a call let go at `--max-calls` is dropped, the media
/// tables hold the whole capture's flows and announcements.
fn analyze_whole(path: &Path, flags: &[&str]) -> Value {
    let mut flags = flags.to_vec();
    flags.push("--in-memory");
    analyze_files(&[path], &flags, 0)
}

/// `analyze --format json --fail-on none FLAGS PATHS…`, which must exit with `code`.
fn analyze_files(paths: &[&Path], flags: &[&str], code: i32) -> Value {
    let mut args = vec!["analyze", "--format", "json", "--fail-on", "none"];
    args.extend_from_slice(flags);
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let o = sipdiag(&args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn anomaly<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v["captures"][0]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
}

fn limit_kinds(v: &Value) -> Vec<String> {
    v["captures"][0]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .filter(|k| k.ends_with("-limit"))
        .map(str::to_string)
        .collect()
}

fn cap006(v: &Value) -> Vec<&Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "CAP006")
        .collect()
}

const CALLER: Addr = ([10, 0, 0, 1], 5060);
const CALLEE: Addr = ([10, 0, 0, 2], 5060);
const CALLER_MEDIA: Addr = ([10, 0, 0, 1], 20000);
const CALLEE_MEDIA: Addr = ([10, 0, 0, 2], 30000);
const CALL_ID: &str = "flooded-call";

/// The real call's set-up from `t` on: [`setup_call`] of [`CALL_ID`].
fn setup(p: &mut Pcap<Vec<u8>>, t: u64, answer: &[u8]) -> std::io::Result<()> {
    setup_call(p, CALL_ID, t, answer)
}

/// Call `id`'s set-up from `t` on: its INVITE, the `answer` a millisecond later, the ACK
/// another millisecond later.
fn setup_call(p: &mut Pcap<Vec<u8>>, id: &str, t: u64, answer: &[u8]) -> std::io::Result<()> {
    let invite = pcap::invite(id, CALLER, CALLEE, CALLER_MEDIA);
    p.udp(t, CALLER, CALLEE, &invite)?;
    p.udp(t + 1000, CALLEE, CALLER, answer)?;
    let ack = pcap::in_dialog("ACK", id, CALLER, CALLEE);
    p.udp(t + 2000, CALLER, CALLEE, &ack).map(|_| ())
}

/// The real call from `t` on: [`setup`] answered 200 with SDP, its RTP one way only
/// (caller → callee, 100 packets 20 ms apart), each packet followed by `flood` single RTP
/// packets on new flows; then BYE and its 200. Returns the time of the last RTP packet.
fn one_way_call(p: &mut Pcap<Vec<u8>>, mut t: u64, flood: u32) -> std::io::Result<u64> {
    setup(p, t, &pcap::ok(CALL_ID, CALLER, CALLEE, CALLEE_MEDIA))?;
    let mut n = 0u32;
    for i in 0..100u16 {
        t += 20_000;
        let rtp = pcap::rtp(i, u32::from(i) * 160, 0x1234);
        p.udp(t, CALLER_MEDIA, CALLEE_MEDIA, &rtp)?;
        for _ in 0..flood {
            n += 1;
            let src = ([10, 9, (n >> 8) as u8, n as u8], 40000 + (n % 1000) as u16);
            p.udp(t + 10, src, ([10, 8, 0, 1], 50000), &pcap::rtp(1, 0, n))?;
        }
    }
    p.hang_up(t + 20_000, CALL_ID, CALLER, CALLEE)?;
    Ok(t)
}

/// [`one_way_call`] alone, with its flow flood.
fn call_in_flow_flood(flood: u32) -> tempfile::NamedTempFile {
    write(|p| one_way_call(p, 1_000_000, flood).map(|_| ()))
}

#[test]
fn call_after_a_flow_flood_is_judged_when_the_cap_is_high_enough() {
    let f = call_in_flow_flood(10);
    let v = analyze(f.path(), &["--max-media-flows", "100000"]);
    assert!(cap006(&v).is_empty(), "no cap reached: {:?}", cap006(&v));
    let sp005 = finding(&v, "SP005");
    assert_eq!(sp005["call_id"], CALL_ID, "one-way RTP judged");
    let verdict = &v["verdicts"][0];
    assert!(
        !verdict["text"].as_str().unwrap().contains("not judged"),
        "{verdict}"
    );
}

#[test]
fn call_whose_flows_were_forgotten_is_marked_not_judged() {
    let f = call_in_flow_flood(10);
    let v = analyze(f.path(), &["--max-media-flows", "5"]);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0]["evidence"];
    assert_eq!(e["limit"], "media-flows");
    assert_eq!(e["flag"], "--max-media-flows");
    assert_eq!(e["cap"], 5);
    // Frame 4 is the call's first RTP packet (flow 1), frames 5-8 flood flows 2-5;
    // frame 9 is the sixth flow and forgets the call's. Every round of 11 packets
    // creates 11 flows again (the call's was forgotten meanwhile): 1100 flows, 5 kept.
    assert_eq!(e["first_frame"], 9);
    assert_eq!(e["count"], 1095);
    assert_eq!(e["calls_not_judged"], serde_json::json!([CALL_ID]));
    assert_eq!(frames(found[0])[0], 9);
    let ids = ids(&v);
    assert!(
        !ids.contains(&"SP005".to_string()),
        "SP rules skip it: {ids:?}"
    );
    let verdict = &v["verdicts"][0];
    assert!(
        verdict["text"]
            .as_str()
            .unwrap()
            .contains("media not judged: flow table limit reached"),
        "{verdict}"
    );
    assert_eq!(verdict["ok"], false, "not called healthy either");
    assert_eq!(verdict["unsure"], true, "nor failed: {verdict}");
    // The table report says it too.
    let o = sipdiag_wide(&[
        "analyze",
        "--max-media-flows",
        "5",
        f.path().to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(
        text.contains("UNSURE flooded-call (frame 1): 200 OK (frame 2), media not judged: flow table limit reached"),
        "{text}"
    );
    assert!(text.contains("CAP006"), "{text}");
}

/// The RTP stream table (`--max-rtp-streams`) full during the call: the flood's streams
/// are not tracked past the cap, CAP006 names the table and its flag, and the call, still
/// going on then, is not judged; raising the flag judges it again.
#[test]
fn call_going_on_when_the_stream_table_fills_is_not_judged() {
    let f = call_in_flow_flood(10);
    let v = analyze(f.path(), &["--max-rtp-streams", "50"]);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0]["evidence"];
    assert_eq!(e["limit"], "rtp-streams");
    assert_eq!(e["flag"], "--max-rtp-streams");
    assert_eq!(e["cap"], 50);
    // Frame 4 is the call's first RTP packet (stream 1), then rounds of 10 flood packets
    // and one of the call's: the flood's 50th stream is frame 4 + 49 + 4 (four of the
    // call's packets among them), so the first left out is frame 58. Of 1,000 flood
    // streams, 951 are not tracked.
    assert_eq!(e["first_frame"], 58);
    assert_eq!(e["count"], 951);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("(--max-rtp-streams 50)"),
        "{}",
        found[0]["message"]
    );
    let verdict = &v["verdicts"][0];
    assert!(
        (verdict["text"].as_str().unwrap()).contains("media not judged: media table limit"),
        "{verdict}"
    );
    assert!(!ids(&v).contains(&"SP005".to_string()));
    let v = analyze(f.path(), &["--max-rtp-streams", "2000"]);
    assert!(cap006(&v).is_empty(), "{:?}", cap006(&v));
    assert_eq!(finding(&v, "SP005")["call_id"], CALL_ID);
}

/// Softphone RTP outside SIP calls going on when the stream table fills is not judged
/// one-way: its reverse stream may be the one left out (`ice-ok-rtp`: 100 RTP packets
/// each way on a pair STUN validated, the second stream left out at a cap of 1).
#[test]
fn softphone_rtp_going_on_when_the_stream_table_fills_is_not_judged() {
    let path = common::testdata("media/ice-ok-rtp.pcap");
    let v = analyze(&path, &["--max-rtp-streams", "1"]);
    assert_eq!(cap006(&v).len(), 1, "{:?}", cap006(&v));
    assert!(!ids(&v).contains(&"SP005".to_string()), "{:?}", ids(&v));
    let end = watch_end(&["--max-rtp-streams", "1", path.to_str().unwrap()]);
    let watched: Vec<&str> = (end["capture_findings"].as_array().unwrap().iter())
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(watched, ["CAP006"]);
}

/// `n` calls answered with SDP and RTP both ways, one after the other (each its own caller
/// and media addresses), then a call refused with 503.
fn answered_calls_then_refused(n: u8) -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = 1_000_000u64;
        for i in 0..n {
            let id = format!("answered-{i}");
            let caller: Addr = ([10, 0, 1, i], 5060);
            let (cm, sm): (Addr, Addr) = (
                ([10, 0, 1, i], 20000),
                ([10, 0, 0, 2], 30000 + 2 * u16::from(i)),
            );
            p.udp(t, caller, CALLEE, &pcap::invite(&id, caller, CALLEE, cm))?;
            p.udp(t + 1000, CALLEE, caller, &pcap::ok(&id, caller, CALLEE, sm))?;
            let ack = pcap::in_dialog("ACK", &id, caller, CALLEE);
            p.udp(t + 2000, caller, CALLEE, &ack)?;
            for k in 0..10u16 {
                t += 20_000;
                let ts = u32::from(k) * 160;
                p.udp(t, cm, sm, &pcap::rtp(k, ts, 0x100 + u32::from(i)))?;
                p.udp(t + 1, sm, cm, &pcap::rtp(k, ts, 0x200 + u32::from(i)))?;
            }
            p.hang_up(t + 1000, &id, caller, CALLEE)?;
            t += 1_000_000;
        }
        let caller: Addr = ([10, 0, 3, 1], 5060);
        let id = "refused";
        p.udp(
            t,
            caller,
            CALLEE,
            &pcap::invite(id, caller, CALLEE, ([10, 0, 3, 1], 20000)),
        )?;
        let refused = pcap::response(id, caller, CALLEE, "503 Service Unavailable");
        p.udp(t + 1000, CALLEE, caller, &refused)?;
        let ack = pcap::in_dialog("ACK", id, caller, CALLEE);
        p.udp(t + 2000, caller, CALLEE, &ack).map(|_| ())
    })
}

/// An answered call whose media was not judged at a table limit is neither healthy nor
/// failed: `unsure` in JSON (`ok` false), UNSURE in the report, where (as healthy calls)
/// three are shown and the others counted; a refused call stays FAILED.
#[test]
fn answered_calls_not_judged_at_a_limit_are_unsure_not_failed() {
    let f = answered_calls_then_refused(6);
    let flag = ["--max-sdp-announcements", "2"];
    let v = analyze(f.path(), &flag);
    assert_eq!(cap006(&v).len(), 1, "{:?}", cap006(&v));
    let verdicts = v["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 7);
    // The first call's two announcements filled the table: it is judged.
    assert_eq!(verdicts[0]["ok"], true, "{}", verdicts[0]);
    assert!(verdicts[0].get("unsure").is_none(), "{}", verdicts[0]);
    for u in &verdicts[1..6] {
        assert_eq!(u["ok"], false, "{u}");
        assert_eq!(u["unsure"], true, "{u}");
        assert!(
            u["text"]
                .as_str()
                .unwrap()
                .contains("media not judged: media table limit reached"),
            "{u}"
        );
    }
    assert_eq!(verdicts[6]["call_ids"][0], "refused");
    assert_eq!(verdicts[6]["ok"], false);
    assert!(verdicts[6].get("unsure").is_none(), "{}", verdicts[6]);
    assert_eq!(v["summary"]["failed"], 1, "{}", v["summary"]);

    let path = f.path().to_str().unwrap();
    let text = stdout(&sipdiag_wide(&["analyze", flag[0], flag[1], path]));
    let starting = |p: &str| text.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(starting("UNSURE answered-"), 3, "{text}");
    assert_eq!(starting("FAILED "), 1, "{text}");
    assert_eq!(starting("OK answered-0 "), 1, "{text}");
    assert!(
        text.contains("…and 2 more calls answered whose media was not judged (a table limit was reached: CAP006; --verbose lists them)"),
        "{text}"
    );
    let verbose = stdout(&sipdiag_wide(&[
        "analyze",
        "--verbose",
        flag[0],
        flag[1],
        path,
    ]));
    let unsure = verbose
        .lines()
        .filter(|l| l.starts_with("UNSURE answered-"))
        .count();
    assert_eq!(unsure, 5, "{verbose}");
    assert!(!verbose.contains("…and"), "{verbose}");
    let md = stdout(&sipdiag_wide(&[
        "analyze", "--format", "markdown", flag[0], flag[1], path,
    ]));
    assert_eq!(md.matches("- UNSURE ").count(), 3, "{md}");
    let html = stdout(&sipdiag_wide(&[
        "analyze", "--format", "html", flag[0], flag[1], path,
    ]));
    assert_eq!(html.matches("<li class=\"unsure\">").count(), 3, "{html}");
    assert_eq!(html.matches("<li class=\"failed\">").count(), 1, "{html}");
}

/// A stream left out at the stream table's cap is counted once, however many packets it
/// carries.
#[test]
fn streams_left_out_are_counted_once_each() {
    let f = answered_calls_then_refused(3);
    let v = analyze(f.path(), &["--max-rtp-streams", "2"]);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0]["evidence"];
    assert_eq!(e["limit"], "rtp-streams", "{e}");
    // The first call's two streams fill the table; the next two calls each send two
    // streams of ten packets: four streams left out, not forty packets.
    assert_eq!(e["count"], 4, "{e}");
    let verdicts = v["verdicts"].as_array().unwrap();
    assert_eq!(verdicts[0]["ok"], true, "{}", verdicts[0]);
    assert_eq!(verdicts[1]["unsure"], true, "{}", verdicts[1]);
}

/// `flood` INVITEs with SDP (each its own caller and media address) answered only by 100
/// Trying, then [`one_way_call`] without a flow flood: RTP one way.
fn sdp_flood_then_call(flood: u32) -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = 1_000_000u64;
        for n in 0..flood {
            let id = format!("flood-{n}");
            let src: Addr = ([10, 7, (n >> 8) as u8, n as u8], 5060);
            let media: Addr = ([10, 6, (n >> 8) as u8, n as u8], 40000);
            p.udp(t, src, CALLEE, &pcap::invite(&id, src, CALLEE, media))?;
            let trying = pcap::response(&id, src, CALLEE, "100 Trying");
            p.udp(t + 100, CALLEE, src, &trying)?;
            t += 1000;
        }
        one_way_call(p, t, 0).map(|_| ())
    })
}

/// An INVITE flood whose calls are let go at `--max-calls` takes their SDP announcements
/// with them: the table does not fill, and the real call after the flood is judged.
#[test]
fn calls_let_go_take_their_announcements_with_them() {
    let f = sdp_flood_then_call(300);
    let flags = ["--max-calls", "20", "--max-sdp-announcements", "50"];
    let v = analyze_whole(f.path(), &flags);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "only the call cap: {found:?}");
    assert_eq!(found[0]["evidence"]["limit"], "calls");
    assert_eq!(found[0]["evidence"]["count"], 281);
    assert_eq!(finding(&v, "SP005")["call_id"], CALL_ID, "its media judged");
    // Without the call cap, the 301 calls' announcements do fill the table.
    let v = analyze_whole(f.path(), &["--max-sdp-announcements", "50"]);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["evidence"]["limit"], "sdp-announcements");
    assert_eq!(found[0]["evidence"]["count"], 252);
    assert!(!ids(&v).contains(&"SP005".to_string()));
    // `media` lists the announcements of the calls kept, none of those let go.
    let o = sipdiag(&[
        "media",
        "--format",
        "json",
        "--max-calls",
        "20",
        f.path().to_str().unwrap(),
    ]);
    let m: Value = serde_json::from_slice(&o.stdout).unwrap();
    let calls: std::collections::BTreeSet<&str> =
        (m["media"]["announced"].as_array().unwrap().iter())
            .map(|a| a["call_id"].as_str().unwrap())
            .collect();
    assert_eq!(calls.len(), 20, "{calls:?}");
    assert!(calls.contains(CALL_ID) && calls.contains("flood-299"));
    assert!(!calls.contains("flood-279"), "{calls:?}");
    // `media` retires its calls (it prints none) and reports the calls let go as
    // `analyze` does.
    let a = (m["captures"][0]["anomalies"].as_array().unwrap().iter())
        .find(|a| a["kind"] == "call-limit")
        .expect("call-limit anomaly");
    assert_eq!(a["count"], 281);
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("281 call(s) dropped from the analysis"),
        "{a}"
    );
}

/// The same call with no flood during it; `flood` new flows come `after_secs` after its
/// last RTP packet.
fn call_then_flow_flood(flood: u32, after_secs: u64) -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = one_way_call(p, 1_000_000, 0)?;
        t += after_secs * 1_000_000;
        for n in 0..flood {
            let src = ([10, 9, (n >> 8) as u8, n as u8], 40000);
            p.udp(
                t + u64::from(n),
                src,
                ([10, 8, 0, 1], 50000),
                &pcap::rtp(1, 0, n),
            )?;
        }
        Ok(())
    })
}

/// A call whose media ended a minute or more before its flows were forgotten at the cap
/// loses nothing: the cap is reported, the call's media is judged.
#[test]
fn flows_forgotten_after_their_call_ended_leave_it_judged() {
    let f = call_then_flow_flood(20, 60);
    let v = analyze_whole(f.path(), &["--max-media-flows", "5"]);
    let found = cap006(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0]["evidence"];
    assert_eq!(e["count"], 16, "the call's flow and 15 of the flood's");
    assert_eq!(e["calls_not_judged"], serde_json::json!([]));
    assert_eq!(
        finding(&v, "SP005")["call_id"],
        CALL_ID,
        "one-way RTP judged"
    );
    // Forgotten while it may still have been going on (59 s of silence), the call's
    // media is not judged.
    let f = call_then_flow_flood(20, 59);
    let v = analyze_whole(f.path(), &["--max-media-flows", "5"]);
    let e = &cap006(&v)[0]["evidence"];
    assert_eq!(e["calls_not_judged"], serde_json::json!([CALL_ID]));
    assert!(!ids(&v).contains(&"SP005".to_string()));
}

#[test]
fn tcp_connection_flood_names_its_limit_and_the_lost_message() {
    let f = write(|p| {
        // Frame 1: an INVITE whose end never comes, on a connection the flood pushes out.
        p.tcp(
            1_000_000,
            ([10, 0, 0, 1], 40000),
            CALLEE,
            1000,
            ACK | PSH,
            b"INVITE sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: lost\r\n",
        )?;
        // Frames 2-26: half-open connections, one direction each.
        for i in 0..25u16 {
            p.tcp(
                1_000_100 + u64::from(i),
                ([10, 0, 1, i as u8], 30000 + i),
                CALLEE,
                7,
                SYN,
                b"",
            )?;
        }
        Ok(())
    });
    let v = analyze(f.path(), &["--max-tcp-connections", "10"]);
    // 10 connections = 20 directions: frames 1-20 fit, frame 21 closes frame 1's.
    let a = anomaly(&v, "tcp-connection-limit").expect("tcp-connection-limit");
    assert_eq!(a["count"], 6);
    assert_eq!(a["frames"][0], 21);
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("--max-tcp-connections")
    );
    let s = anomaly(&v, "sip-connection-limit").expect("sip-connection-limit");
    assert_eq!(s["count"], 1);
    assert_eq!(s["frames"], serde_json::json!([1]));
    assert!(
        anomaly(&v, "sip-incomplete").is_none(),
        "not 'missing segments'"
    );
    let found = cap006(&v);
    let mut limits: Vec<_> = found
        .iter()
        .map(|f| f["evidence"]["anomaly"].as_str().unwrap())
        .collect();
    limits.sort();
    assert_eq!(limits, ["sip-connection-limit", "tcp-connection-limit"]);
    assert!(
        found
            .iter()
            .all(|f| f["evidence"]["limit"] == "tcp-connections")
    );
    // The default cap is not reached by this capture.
    let v = analyze(f.path(), &[]);
    assert!(limit_kinds(&v).is_empty(), "{:?}", limit_kinds(&v));
    assert!(cap006(&v).is_empty());
}

/// Twelve connections through a table of two (four directions), one after the other: each
/// new one closes the least recently active and takes its place in the table. Every third
/// leaves its message unfinished; the complete messages of the connections that take
/// those places are framed alone, and each unfinished one is counted once, where it was
/// lost.
#[test]
fn connections_that_take_a_closed_ones_place_frame_their_own_messages() {
    let f = write(|p| {
        for k in 0..12u8 {
            let t = 1_000_000 + u64::from(k) * 100;
            let src: Addr = ([10, 0, 3, k], 40000 + u16::from(k));
            // Frame 2k + 1: the SYN; 2k + 2: the message.
            p.tcp(t, src, CALLEE, 7, SYN, b"")?;
            let msg = if k % 3 == 0 {
                format!("OPTIONS sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: lost-{k}\r\n")
            } else {
                format!(
                    "OPTIONS sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: ok-{k}\r\nCSeq: 1 OPTIONS\r\n\
                     Content-Length: 0\r\n\r\n"
                )
            };
            p.tcp(t + 1, src, CALLEE, 8, ACK | PSH, msg.as_bytes())?;
        }
        Ok(())
    });
    let path = f.path().to_str().unwrap();
    let args = [
        "messages",
        "--format",
        "json",
        "--max-tcp-connections",
        "2",
        path,
    ];
    let v: Value = serde_json::from_slice(&sipdiag(&args).stdout).unwrap();
    let ids: Vec<&str> = (v["messages"].as_array().unwrap().iter())
        .map(|m| m["call_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..12)
        .filter(|k| k % 3 != 0)
        .map(|k| format!("ok-{k}"))
        .collect();
    assert_eq!(ids, expected);
    let v = analyze(f.path(), &["--max-tcp-connections", "2"]);
    // Connections 4 to 11 each closed the oldest: the first at frame 9.
    let a = anomaly(&v, "tcp-connection-limit").expect("tcp-connection-limit");
    assert_eq!(
        (a["count"].as_u64(), a["frames"][0].as_u64()),
        (Some(8), Some(9))
    );
    // Connections 0, 3 and 6 were closed with their message unfinished; 9's was
    // unfinished when the capture ended.
    let s = anomaly(&v, "sip-connection-limit").expect("sip-connection-limit");
    assert_eq!(s["count"], 3);
    assert_eq!(s["frames"], serde_json::json!([2, 8, 14]));
    let end = anomaly(&v, "sip-incomplete").expect("sip-incomplete");
    assert_eq!(end["frames"], serde_json::json!([20]));
}

#[test]
fn fragment_flood_is_bounded_and_later_datagrams_still_rebuild() {
    let sip = pcap::in_dialog("OPTIONS", "frag", CALLER, CALLEE);
    let f = write(|p| {
        // Frames 1-20: first fragments that never complete.
        for id in 0..20u16 {
            p.fragment(
                1_000_000,
                [10, 7, 0, 1],
                [10, 0, 0, 2],
                pcap::UDP,
                9000 + id,
                0,
                true,
                &[0; 16],
            )?;
        }
        // Frames 21-22: a SIP request in two fragments.
        let last = p.udp_fragmented(1_000_100, CALLER, CALLEE, &sip, 200)?;
        assert_eq!(last, 22);
        Ok(())
    });
    let v = analyze(f.path(), &["--max-fragments", "8"]);
    let a = anomaly(&v, "ip-fragment-limit").expect("ip-fragment-limit");
    // Frames 9-21 each found 8 datagrams pending and dropped the oldest.
    assert_eq!(a["count"], 13);
    assert_eq!(a["frames"][0], 9);
    assert!(a["message"].as_str().unwrap().contains("--max-fragments"));
    assert_eq!(
        v["captures"][0]["sip_messages"], 1,
        "the SIP request was rebuilt"
    );
    let inc = anomaly(&v, "ip-fragments-incomplete").expect("the 7 left at the end");
    assert_eq!(inc["count"], 7);
    let found = cap006(&v);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["evidence"]["limit"], "fragments");
    assert_eq!(found[0]["evidence"]["count"], 13);
    assert_eq!(found[0]["evidence"]["first_frame"], 9);
}

/// `watch` holds the SP003 findings of calls judged before the capture shows any UDP
/// (until then a capture filtered to signalling cannot be told apart); past the 1,000 it
/// keeps, those left out when UDP comes are counted in the closing record and line.
#[test]
fn watch_counts_the_waiting_media_findings_it_could_not_keep() {
    const CALLS: u64 = 1003;
    let f = write(|p| {
        let mut t = 1_000_000;
        for i in 0..CALLS {
            let id = format!("quiet-{i}");
            t = 1_000_000 + i * 50_000;
            setup_call(p, &id, t, &pcap::ok(&id, CALLER, CALLEE, CALLEE_MEDIA))?;
            p.hang_up(t + 2_000_000, &id, CALLER, CALLEE)?;
        }
        // Signalling half a minute later moves the clock on: every call has retired and
        // been judged (SP003 waiting) when, a minute later, the first UDP besides SIP comes.
        for k in 0..2 {
            let options = pcap::in_dialog("OPTIONS", &format!("keepalive-{k}"), CALLER, CALLEE);
            p.udp(t + 30_000_000 + k * 1_000_000, CALLER, CALLEE, &options)?;
        }
        let rtp = pcap::rtp(1, 160, 7);
        p.udp(
            t + 60_000_000,
            ([10, 0, 9, 1], 40000),
            ([10, 0, 9, 2], 40002),
            &rtp,
        )?;
        Ok(())
    });
    let path = f.path().to_str().unwrap();
    let out = common::stdout(&sipdiag(&["watch", "--format", "json", path]));
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let printed = (records.iter())
        .flat_map(|r| r["findings"].as_array().into_iter().flatten())
        .filter(|f| f["id"] == "SP003")
        .count();
    assert_eq!(printed, 1000);
    let end = records.last().unwrap();
    assert_eq!(end["type"], "end");
    assert!(end["calls"].as_u64().unwrap() >= CALLS, "{end}");
    assert_eq!(end["deferred_left_out"], CALLS - 1000, "{end}");
    // Told OK when judged (their finding waited), failed once UDP came.
    assert_eq!(end["failed"], CALLS, "{end}");
    let text = common::stdout(&sipdiag(&["watch", path]));
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("3 SP003 finding(s) on calls judged before the capture showed any UDP"),
        "{text}"
    );
}

#[test]
fn sctp_reassembly_drops_are_reported() {
    let options = pcap::in_dialog("OPTIONS", "over-sctp", CALLER, CALLEE);
    let (head, tail) = options.split_at(40);
    let f = write(|p| {
        let mut chunk = |us: u64, flags: u8, tsn: u32, stream: u16, user: &[u8]| {
            let sctp = sctp_data(CALLER.1, CALLEE.1, flags, tsn, stream, user);
            p.fragment(us, CALLER.0, CALLEE.0, 132, 1, 0, false, &sctp)
        };
        // Frames 1-2: two messages begun on streams 1 and 2.
        chunk(1_000_000, 2, 1, 1, b"never")?;
        chunk(1_000_001, 2, 10, 2, b"also never")?;
        // Frames 3-4: the OPTIONS in two chunks on stream 3; at `--max-fragments 2`,
        // stream 1's message makes room.
        chunk(1_000_002, 2, 20, 3, head)?;
        chunk(1_000_003, 1, 21, 3, tail)?;
        // Frame 5: stream 1's last chunk finds nothing to finish.
        chunk(1_000_004, 1, 2, 1, b"end")?;
        // Frame 6: a message over `--max-sip-message 300`, in one chunk.
        chunk(1_000_005, 3, 30, 4, &[b'x'; 400])?;
        Ok(())
    });
    let v = analyze(
        f.path(),
        &["--max-fragments", "2", "--max-sip-message", "300"],
    );
    assert_eq!(v["captures"][0]["sip_messages"], 1, "the OPTIONS rebuilt");
    let a = anomaly(&v, "sctp-reassembly-limit").expect("sctp-reassembly-limit");
    assert_eq!(
        (a["count"].as_u64(), a["frames"][0].as_u64()),
        (Some(1), Some(3))
    );
    assert!(a["message"].as_str().unwrap().contains("--max-fragments"));
    let a = anomaly(&v, "sctp-message-limit").expect("sctp-message-limit");
    assert_eq!(
        (a["count"].as_u64(), a["frames"][0].as_u64()),
        (Some(1), Some(6))
    );
    assert!(a["message"].as_str().unwrap().contains("--max-sip-message"));
    // Stream 1's end (frame 5) and stream 2's message, left at the end (frame 2).
    let a = anomaly(&v, "sctp-fragments-incomplete").expect("sctp-fragments-incomplete");
    assert_eq!(a["count"], 2);
    assert_eq!(a["frames"], serde_json::json!([2, 5]));
    let mut limits: Vec<&str> = (cap006(&v).iter())
        .map(|f| f["evidence"]["limit"].as_str().unwrap())
        .collect();
    limits.sort();
    assert_eq!(limits, ["fragments", "sip-message"]);
    let cap004: Vec<&Value> = (v["findings"].as_array().unwrap().iter())
        .filter(|f| f["id"] == "CAP004")
        .collect();
    assert_eq!(cap004.len(), 1, "{cap004:?}");
    assert!(
        cap004[0]["title"].as_str().unwrap().contains("SCTP"),
        "{}",
        cap004[0]
    );
    // Under the default caps stream 1's message is whole; only stream 2's never ends.
    let v = analyze(f.path(), &[]);
    assert_eq!(v["captures"][0]["sip_messages"], 1);
    assert!(limit_kinds(&v).is_empty(), "{:?}", limit_kinds(&v));
    let a = anomaly(&v, "sctp-fragments-incomplete").expect("sctp-fragments-incomplete");
    assert_eq!(a["count"], 1);
    assert_eq!(a["frames"], serde_json::json!([2]));
}

/// A MESSAGE whose 400-byte body is SIP-looking text, then an OPTIONS, on one TCP stream.
fn big_body() -> tempfile::NamedTempFile {
    let body: String = "OPTIONS sip:fake SIP/2.0\r\nCall-ID: fake\r\n\r\n".repeat(10);
    let body = &body.as_bytes()[..400];
    let head = format!(
        "MESSAGE sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let options = b"OPTIONS sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    write(|p| {
        let src = ([10, 0, 0, 1], 40000);
        let mut seq = 1000u32;
        for (i, d) in [head.as_bytes(), &body[..200], &body[200..], options]
            .iter()
            .enumerate()
        {
            p.tcp(1_000_000 + i as u64, src, CALLEE, seq, ACK | PSH, d)?;
            seq += d.len() as u32;
        }
        Ok(())
    })
}

#[test]
fn body_over_the_cap_is_skipped_and_reported() {
    let f = big_body();
    let v = analyze(f.path(), &["--max-sip-message", "300"]);
    assert_eq!(
        v["captures"][0]["sip_messages"], 2,
        "MESSAGE headers and the OPTIONS"
    );
    let a = anomaly(&v, "sip-body-limit").expect("sip-body-limit");
    assert_eq!(a["count"], 1);
    assert_eq!(a["frames"], serde_json::json!([1]));
    assert!(a["message"].as_str().unwrap().contains("--max-sip-message"));
    let found = cap006(&v);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["evidence"]["limit"], "sip-message");
    // Under the default cap the body is a body: the same two messages, no anomaly.
    let v = analyze(f.path(), &[]);
    assert_eq!(v["captures"][0]["sip_messages"], 2);
    assert!(limit_kinds(&v).is_empty(), "{:?}", limit_kinds(&v));
}

#[test]
fn header_block_over_the_cap_has_its_own_anomaly() {
    let mut long = b"INVITE sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: long\r\n".to_vec();
    for i in 0..20 {
        long.extend_from_slice(format!("X-Pad-{i}: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n").as_bytes());
    }
    let options = b"OPTIONS sip:200@10.0.0.2 SIP/2.0\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let f = write(|p| {
        let src = ([10, 0, 0, 1], 40000);
        let mut seq = 1000u32;
        for (i, d) in [&long[..300], &long[300..], &options[..]]
            .iter()
            .enumerate()
        {
            p.tcp(1_000_000 + i as u64, src, CALLEE, seq, ACK | PSH, d)?;
            seq += d.len() as u32;
        }
        Ok(())
    });
    let v = analyze(f.path(), &["--max-sip-header", "500"]);
    let a = anomaly(&v, "sip-header-limit").expect("sip-header-limit");
    assert_eq!(a["count"], 1);
    assert_eq!(a["frames"], serde_json::json!([1]));
    assert!(
        anomaly(&v, "sip-incomplete").is_none(),
        "not 'missing segments'"
    );
    assert_eq!(
        v["captures"][0]["sip_messages"], 1,
        "the OPTIONS after it is read"
    );
    assert_eq!(cap006(&v)[0]["evidence"]["limit"], "sip-header");
}

#[test]
fn limits_are_in_the_help_of_every_command_that_reads_captures() {
    for cmd in ["analyze", "messages", "calls", "media", "flow"] {
        let o = sipdiag(&[cmd, "--help"]);
        let help = stdout(&o);
        for flag in [
            "--max-tcp-connections",
            "--max-fragments",
            "--max-media-flows",
            "--max-sip-message",
            "--max-sip-header",
            "--max-calls",
            "--max-sdp-announcements",
            "--max-rtp-streams",
            "--max-rtp-streams-per-flow",
            "--max-stun-transactions",
            "--max-stun-tcp-connections",
            "--max-softphone-connections",
            "--max-icmp-errors",
        ] {
            assert!(help.contains(flag), "{cmd} --help lacks {flag}");
        }
    }
    let o = sipdiag(&["analyze", "--max-media-flows", "0", "x.pcap"]);
    assert_eq!(o.status.code(), Some(2), "a cap of 0 is refused");
}

/// `flood` INVITEs answered only by 100 Trying (a new Call-ID each, 1 ms apart), then a
/// real call answered 486 Busy Here and acknowledged. With `ringing`, the first INVITE
/// gets a 180 Ringing after every 50th of the others (so it stays among the most recently
/// active).
fn invite_flood(flood: u32, ringing: bool) -> tempfile::NamedTempFile {
    invite_flood_from(1_000_000, flood, ringing)
}

/// [`invite_flood`] with its first INVITE at `start` (µs since the epoch).
fn invite_flood_from(start: u64, flood: u32, ringing: bool) -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = start;
        for n in 0..flood {
            if ringing && n > 0 && n % 50 == 0 {
                let first: Addr = ([10, 7, 0, 0], 5060);
                let r = pcap::response("flood-0", first, CALLEE, "180 Ringing");
                p.udp(t - 500, CALLEE, first, &r)?;
            }
            let id = format!("flood-{n}");
            let src: Addr = ([10, 7, (n >> 8) as u8, n as u8], 5060);
            p.udp(
                t,
                src,
                CALLEE,
                &pcap::invite(&id, src, CALLEE, CALLER_MEDIA),
            )?;
            p.udp(
                t + 100,
                CALLEE,
                src,
                &pcap::response(&id, src, CALLEE, "100 Trying"),
            )?;
            t += 1000;
        }
        setup(
            p,
            t,
            &pcap::response(CALL_ID, CALLER, CALLEE, "486 Busy Here"),
        )
    })
}

fn call_ids(v: &Value) -> Vec<&str> {
    v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect()
}

#[test]
fn invite_flood_is_held_to_the_call_cap_and_the_drops_are_reported() {
    let f = invite_flood(200, false);
    // Under the default cap every call is analysed, and nothing is reported.
    let v = analyze_whole(f.path(), &[]);
    assert_eq!(call_ids(&v).len(), 201);
    assert!(anomaly(&v, "call-limit").is_none());
    assert!(cap006(&v).is_empty());

    // At 50, the least recently active INVITEs are dropped as newer ones come (the first
    // from frame 1): 151 of them, the last when the real call's INVITE came.
    let v = analyze_whole(f.path(), &["--max-calls", "50"]);
    let ids = call_ids(&v);
    assert_eq!(ids.len(), 50, "{ids:?}");
    assert_eq!(ids[0], "flood-151");
    assert_eq!(ids[49], CALL_ID);
    let a = anomaly(&v, "call-limit").expect("call-limit anomaly");
    assert_eq!(a["count"], 151);
    assert_eq!(a["frames"][0], 1);
    let cap = cap006(&v);
    assert_eq!(cap.len(), 1);
    let e = &cap[0]["evidence"];
    assert_eq!(e["limit"], "calls");
    assert_eq!(e["flag"], "--max-calls");
    assert_eq!(e["count"], 151);
    assert!(
        cap[0]["message"]
            .as_str()
            .unwrap()
            .contains("--max-calls 50"),
        "{}",
        cap[0]["message"]
    );

    // Long floods: the places of dropped calls are given back as the scan goes (when
    // half are), and the least recently active still go first: the first INVITE, which
    // keeps ringing, stays.
    let f = invite_flood(3000, true);
    let v = analyze_whole(f.path(), &["--max-calls", "100"]);
    let ids = call_ids(&v);
    assert_eq!(ids.len(), 100);
    assert_eq!(ids[..2], ["flood-0", "flood-2902"]);
    assert_eq!(ids[98], "flood-2999");
    assert_eq!(anomaly(&v, "call-limit").unwrap()["count"], 2901);
}

/// Read as a stream (the default for one file), the calls let go at `--max-calls` before
/// they ended are dropped, as when every call is held: the report is the one of
/// `--in-memory`, the same calls, the same CAP006, and the real call after the flood
/// judged as without the cap. A flood of INVITEs then costs no more than its reading.
#[test]
fn invite_flood_read_as_a_stream_drops_the_calls_let_go_as_held_in_memory() {
    let f = invite_flood(200, false);
    let v = analyze(f.path(), &["--max-calls", "50"]);
    let ids = call_ids(&v);
    assert_eq!(ids.len(), 50, "{ids:?}");
    assert_eq!((ids[0], ids[49]), ("flood-151", CALL_ID));
    let cap = cap006(&v);
    assert_eq!(cap.len(), 1, "{cap:?}");
    let e = &cap[0]["evidence"];
    assert_eq!(
        (&e["limit"], &e["flag"], &e["count"]),
        (&"calls".into(), &"--max-calls".into(), &151.into())
    );
    let message = cap[0]["message"].as_str().unwrap();
    assert!(
        message.contains("(--max-calls 50): 151 call(s) dropped from the analysis"),
        "{message}"
    );
    assert_eq!(v, analyze_whole(f.path(), &["--max-calls", "50"]));
    let verdict = |v: &Value| {
        (v["verdicts"].as_array().unwrap().iter())
            .find(|d| d["call_ids"][0] == CALL_ID)
            .cloned()
            .unwrap()
    };
    assert_eq!(verdict(&v), verdict(&analyze(f.path(), &[])));
    // A long flood whose first INVITE keeps ringing: it stays, the others go.
    let f = invite_flood(3000, true);
    let v = analyze(f.path(), &["--max-calls", "100"]);
    let ids = call_ids(&v);
    assert_eq!(ids.len(), 100);
    assert_eq!(ids[..2], ["flood-0", "flood-2902"]);
    assert_eq!(v, analyze_whole(f.path(), &["--max-calls", "100"]));
}

#[test]
fn ended_calls_that_go_early_at_the_cap_are_not_reported() {
    // 100 calls answered 486 and acknowledged, 1 ms apart: each lingers 32 s for
    // retransmissions, so at a cap of 10 the oldest go early, with nothing lost.
    let f = write(|p| {
        for n in 0..100u32 {
            let id = format!("busy-{n}");
            let t = 1_000_000 + u64::from(n) * 1000;
            p.udp(
                t,
                CALLER,
                CALLEE,
                &pcap::invite(&id, CALLER, CALLEE, CALLER_MEDIA),
            )?;
            p.udp(
                t + 100,
                CALLEE,
                CALLER,
                &pcap::response(&id, CALLER, CALLEE, "486 Busy Here"),
            )?;
            p.udp(
                t + 200,
                CALLER,
                CALLEE,
                &pcap::in_dialog("ACK", &id, CALLER, CALLEE),
            )?;
        }
        Ok(())
    });
    let p = f.path().to_str().unwrap();
    let o = sipdiag(&["calls", "--format", "json", "--max-calls", "10", p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(call_ids(&v).len(), 100);
    assert!(anomaly(&v, "call-limit").is_none(), "{v}");
    let v = analyze(f.path(), &["--max-calls", "10"]);
    assert_eq!(call_ids(&v).len(), 100);
    assert!(anomaly(&v, "call-limit").is_none());
}

#[test]
fn calls_and_watch_retire_the_flood_early_at_the_cap_and_say_so() {
    let f = invite_flood(200, false);
    let p = f.path().to_str().unwrap();
    // `calls` keeps listing every call: those over the cap retire early, whole so far.
    let o = sipdiag(&["calls", "--format", "json", "--max-calls", "50", p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = call_ids(&v);
    assert_eq!(ids.len(), 201);
    assert_eq!(ids[0], "flood-0");
    let a = anomaly(&v, "call-limit").expect("call-limit anomaly in calls");
    assert_eq!(a["count"], 151);
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("retired before they ended")
    );

    // `watch` judges each as it goes and reports the cap at the end.
    let o = sipdiag(&[
        "watch",
        "--format",
        "json",
        "--fail-on",
        "none",
        "--max-calls",
        "50",
        p,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let end: Value = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["type"] == "end")
        .expect("end line");
    let cap: Vec<&Value> = end["capture_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "CAP006")
        .collect();
    assert_eq!(cap.len(), 1, "{end}");
    assert_eq!(cap[0]["evidence"]["count"], 151);
    // Held at most the cap at once; every call judged.
    assert_eq!(end["peak_calls"], 50, "{end}");
    assert_eq!(end["calls"], 201, "{end}");
}

#[test]
fn call_limit_is_reported_on_the_file_that_carried_the_calls() {
    // Three files, the first unreadable: the reports are those of the other two, and the
    // drops belong to the flood's, not to the report at the flood's position in the list.
    let flood = invite_flood(200, false);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pcap");
    std::fs::write(&bad, b"not a capture at all\n").unwrap();
    let other = common::testdata("followme/fm002-intl00.pcap");
    let v = analyze_files(&[&bad, flood.path(), &other], &["--max-calls", "50"], 2);
    let kinds = |i: usize| -> Vec<String> {
        v["captures"][i]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let path = |i: usize| v["captures"][i]["path"].as_str().unwrap().to_string();
    assert_eq!(v["captures"].as_array().unwrap().len(), 2);
    assert!(path(0).ends_with(flood.path().file_name().unwrap().to_str().unwrap()));
    assert!(kinds(0).contains(&"call-limit".to_string()), "{v}");
    assert!(!kinds(1).contains(&"call-limit".to_string()), "{v}");
}

/// The number of whole records of a little-endian classic pcap, and the time of the last
/// (µs since the epoch).
fn records_and_last_time(path: &Path) -> (u64, u64) {
    let pcap = std::fs::read(path).unwrap();
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let word = |at: usize| u64::from(u32::from_le_bytes(pcap[at..at + 4].try_into().unwrap()));
    let (mut off, mut records, mut last) = (24, 0, 0);
    while off + 16 <= pcap.len() {
        last = word(off) * 1_000_000 + word(off + 4);
        records += 1;
        off += 16 + word(off + 8) as usize;
    }
    (records, last)
}

/// The CAP006 finding on the calls cap of an `analyze` report or a `watch` end record.
fn call_limit_finding(findings: &Value) -> Value {
    let found: Vec<&Value> = (findings.as_array().unwrap().iter())
        .filter(|f| f["id"] == "CAP006" && f["evidence"]["limit"] == "calls")
        .collect();
    assert_eq!(found.len(), 1, "{findings:#}");
    found[0].clone()
}

#[test]
fn call_limit_quotes_the_frame_numbers_of_the_file_that_carried_the_calls() {
    // A real capture, then a flood that begins a millisecond after its last frame. Read
    // merged (in either order) the flood's frames come after the capture's, read one
    // after the other by `watch` too when the capture is given first; either way the
    // finding names the flood's file and its message quotes the first call as that file
    // numbers it (frame 1), as the flood read alone does.
    let call = common::testdata("reader/udp-call.pcap");
    let (before, last) = records_and_last_time(&call);
    let flood = invite_flood_from(last + 1000, 200, false);
    let flood_path = flood.path().to_str().unwrap();
    let cap = ["--max-calls", "50"];
    let alone = call_limit_finding(&analyze_whole(flood.path(), &cap)["findings"]);
    let message = alone["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "{flood_path}: calls not ended over the cap (--max-calls 50): 151 call(s) dropped from the analysis, the first beginning in frame 1."
        )
    );
    assert_eq!(frames(&alone), [1]);
    for files in [
        [call.as_path(), flood.path()],
        [flood.path(), call.as_path()],
    ] {
        let v = analyze_files(&files, &cap, 0);
        let m = call_limit_finding(&v["findings"]);
        for key in ["id", "title", "capture", "message"] {
            assert_eq!(m[key], alone[key], "{files:?}: {key}");
        }
        // Cited as the flood's frame 1; the Wireshark filter counts through the merged
        // stream, the capture's frames first.
        assert_eq!(
            m["frames"],
            serde_json::json!([{"capture": flood_path, "frame": 1}]),
            "{files:?}"
        );
        assert_eq!(
            m["wireshark_filter"],
            format!("frame.number == {}", before + 1),
            "{files:?}"
        );
    }

    // `watch` numbers frames through the files given, and cites a capture finding in its
    // file's own numbers: the finding names the flood's file and its frame 1 whether the
    // flood comes first or after the capture's frames.
    let watch_end = |paths: &[&str]| -> Value {
        let mut args = vec!["watch", "--format", "json", "--fail-on", "none"];
        args.extend_from_slice(&cap);
        args.extend_from_slice(paths);
        let o = sipdiag(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let end = (String::from_utf8(o.stdout).unwrap().lines())
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["type"] == "end")
            .expect("end line");
        call_limit_finding(&end["capture_findings"])
    };
    let alone = watch_end(&[flood_path]);
    let call_path = call.to_str().unwrap();
    for files in [[call_path, flood_path], [flood_path, call_path]] {
        let m = watch_end(&files);
        assert_eq!(m["capture"], flood_path, "{files:?}");
        let message = m["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{flood_path}: calls not ended over the cap"))
                && message.ends_with(", the first beginning in frame 1."),
            "{files:?}: {message}"
        );
        assert_eq!(frames(&m), [1], "{files:?}");
        assert_eq!(m["wireshark_filter"], "frame.number == 1", "{files:?}");
        assert_eq!(m["evidence"]["first_frame"], 1, "{files:?}");
        // The capture first: the flood's calls are let go as when it is read alone.
        if files[0] == call_path {
            assert_eq!(m, alone, "{files:?}");
        }
    }
}

/// More calls than a drawn table takes (10,000): `calls` lists them in plain columns as
/// they retire, in call order, with the table's cells, notes and footer; the calls
/// retired at the cap are in it like the others.
#[test]
fn calls_past_ten_thousand_are_listed_in_plain_columns() {
    let f = invite_flood(10_050, false);
    let p = f.path().to_str().unwrap();
    let json = sipdiag(&["calls", "--format", "json", "--max-calls", "100", p]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = v["calls"].as_array().unwrap();
    assert_eq!(rows.len(), 10_051);
    let o = sipdiag(&["calls", "--max-calls", "100", p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let head: Vec<&str> = lines[0].split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(
        head.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "Call-ID",
            "Frames",
            "From",
            "To",
            "Diversion",
            "Methods",
            "INVITE result"
        ]
    );
    assert!(!text.contains('│'), "no drawn table");
    for (row, line) in rows.iter().zip(&lines[1..]) {
        let cells: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let frames = format!("{}–{}", row["first_frame"], row["last_frame"]);
        let result = match row["final_status"].as_u64() {
            Some(s) => format!("{s} (frame {})", row["final_frame"]),
            None => "no final response".to_string(),
        };
        let methods: Vec<&str> = row["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(cells[0], row["call_id"].as_str().unwrap(), "{line}");
        assert_eq!(cells[1], frames, "{line}");
        assert_eq!(cells.last().copied(), Some(result.as_str()), "{line}");
        assert!(line.contains(&methods.join(" ")), "{line}");
    }
    // The real call, last: its 486 (with the numbers of its From and To).
    assert!(
        lines[10_051].starts_with("flooded-call "),
        "{}",
        lines[10_051]
    );
    assert!(
        lines[10_051].ends_with("486 (frame 20102)"),
        "{}",
        lines[10_051]
    );
    // Then the footer of the table: the capture and its call-limit anomaly.
    assert!(lines[10_052].starts_with(p), "{}", lines[10_052]);
    assert!(lines[10_053].contains("call-limit"), "{}", lines[10_053]);
    assert_eq!(lines.len(), 10_054);

    // Read whole (two captures: no retiring; under the default cap), the same lines,
    // the other capture's call after them.
    let again = sipdiag(&["calls", p, "testdata/followme/fm002-intl00.pcap"]);
    let again = String::from_utf8(again.stdout).unwrap();
    let again: Vec<&str> = again.lines().collect();
    assert_eq!(again[..=10_051], lines[..=10_051]);
    assert!(
        again[10_052].starts_with("8e97d7262357…"),
        "{}",
        again[10_052]
    );
}

/// The real call set up, then 50 INFO requests in its dialog a second apart, then its
/// BYE and 200: 55 messages under one Call-ID, one packet each.
fn chatty_call() -> tempfile::NamedTempFile {
    write(|p| {
        setup(
            p,
            1_000_000,
            &pcap::ok(CALL_ID, CALLER, CALLEE, CALLEE_MEDIA),
        )?;
        let mut t = 1_000_000;
        for _ in 0..50 {
            t += 1_000_000;
            p.udp(
                t,
                CALLER,
                CALLEE,
                &pcap::in_dialog("INFO", CALL_ID, CALLER, CALLEE),
            )?;
        }
        p.hang_up(t + 1000, CALL_ID, CALLER, CALLEE)
    })
}

#[test]
fn a_call_lists_its_messages_to_the_cap_and_the_rest_are_reported() {
    let f = chatty_call();
    let v = analyze(f.path(), &[]);
    assert!(anomaly(&v, "call-message-limit").is_none());
    assert!(cap006(&v).is_empty());

    // At 10, the call lists its first 9 messages and its latest: the 10th (frame 10) is
    // the first of the 45 left out.
    let v = analyze(f.path(), &["--max-messages-per-call", "10"]);
    let a = anomaly(&v, "call-message-limit").expect("call-message-limit anomaly");
    assert_eq!(a["count"], 45);
    assert_eq!(a["frames"][0], 10);
    let cap = cap006(&v);
    assert_eq!(cap.len(), 1, "{cap:?}");
    let e = &cap[0]["evidence"];
    assert_eq!(e["limit"], "messages-per-call");
    assert_eq!(e["flag"], "--max-messages-per-call");
    assert_eq!(e["count"], 45);
    assert_eq!(e["first_frame"], 10);
    // The call's state still followed every message: answered, then ended by its BYE.
    assert_eq!(v["summary"]["answered"], 1, "{}", v["summary"]);

    // `calls`, whose calls retire as they end, keeps the same list and says so.
    let o = sipdiag(&[
        "calls",
        "--format",
        "json",
        "--max-messages-per-call",
        "10",
        f.path().to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["calls"][0]["messages"], 10, "{}", c["calls"][0]);
    let a = anomaly(&c, "call-message-limit").expect("reported by calls");
    assert_eq!(
        (a["count"].as_u64(), a["frames"][0].as_u64()),
        (Some(45), Some(10))
    );

    // So does `watch`, in its closing record.
    let end = watch_end(&["--max-messages-per-call", "10", f.path().to_str().unwrap()]);
    let e = &end["capture_findings"][0]["evidence"];
    assert_eq!(e["limit"], "messages-per-call", "{end}");
    assert_eq!(
        (e["count"].as_u64(), e["first_frame"].as_u64()),
        (Some(45), Some(10))
    );
}

/// A request of the real call's dialog with its own CSeq number and branch, from the
/// caller (a re-INVITE, or a made-up method).
fn in_dialog_request(method: &str, cseq: u32) -> Vec<u8> {
    format!(
        "{method} sip:200@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{cseq}\r\n\
         From: <sip:100@10.0.0.1>;tag=a{CALL_ID}\r\nTo: <sip:200@10.0.0.2>;tag=b{CALL_ID}\r\n\
         Call-ID: {CALL_ID}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The callee's 200 to the caller's request with CSeq `cseq` (`method`).
fn in_dialog_ok(method: &str, cseq: u32) -> Vec<u8> {
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{cseq}\r\n\
         From: <sip:100@10.0.0.1>;tag=a{CALL_ID}\r\nTo: <sip:200@10.0.0.2>;tag=b{CALL_ID}\r\n\
         Call-ID: {CALL_ID}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The real call set up (frames 1–3), then 40 re-INVITEs a second apart, each answered
/// 200 and acknowledged (frames 4–123), then its BYE and 200: 41 INVITE transactions
/// under one Call-ID.
fn re_inviting_call() -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = 1_000_000;
        setup(p, t, &pcap::ok(CALL_ID, CALLER, CALLEE, CALLEE_MEDIA))?;
        for n in 0..40 {
            t += 1_000_000;
            let cseq = 10 + n;
            p.udp(t, CALLER, CALLEE, &in_dialog_request("INVITE", cseq))?;
            p.udp(t + 1000, CALLEE, CALLER, &in_dialog_ok("INVITE", cseq))?;
            p.udp(t + 2000, CALLER, CALLEE, &in_dialog_request("ACK", cseq))?;
        }
        p.hang_up(t + 1_000_000, CALL_ID, CALLER, CALLEE)
    })
}

/// A Call-ID carrying a new INVITE transaction in every message grew its call, and the
/// time to match each message to its transaction, with every message: 100,000 under one
/// Call-ID took half a minute for a 22 MB capture.
#[test]
fn a_call_keeps_its_invite_transactions_to_the_cap_and_the_rest_are_reported() {
    let f = re_inviting_call();
    let v = analyze(f.path(), &[]);
    assert!(anomaly(&v, "call-invite-limit").is_none());
    assert!(cap006(&v).is_empty());

    // At 10, the call keeps its first 9 INVITE transactions and its latest: the 10th
    // (tshark: the 10th `sip.Method == "INVITE"` is frame 28) is the first of the 31
    // left out.
    let cap = ["--max-invites-per-call", "10"];
    for v in [analyze(f.path(), &cap), analyze_whole(f.path(), &cap)] {
        let a = anomaly(&v, "call-invite-limit").expect("call-invite-limit anomaly");
        assert_eq!(
            (a["count"].as_u64(), a["frames"][0].as_u64()),
            (Some(31), Some(28))
        );
        let found = cap006(&v);
        assert_eq!(found.len(), 1, "{found:?}");
        let e = &found[0]["evidence"];
        assert_eq!(e["limit"], "invites-per-call");
        assert_eq!(e["flag"], "--max-invites-per-call");
        assert_eq!(e["first_frame"], 28);
        // The call's state followed the transactions kept: answered, ended by its BYE.
        assert_eq!(v["summary"]["answered"], 1, "{}", v["summary"]);
        assert_eq!(v["summary"]["failed"], 0, "{}", v["summary"]);
    }

    // `calls`, `media` (which follows only the calls' ends) and `watch` say so too.
    for command in ["calls", "media"] {
        let path = f.path().to_str().unwrap();
        let o = sipdiag(&[command, "--format", "json", cap[0], cap[1], path]);
        let c: Value = serde_json::from_slice(&o.stdout).unwrap();
        let a = anomaly(&c, "call-invite-limit").expect(command);
        assert_eq!(
            (a["count"].as_u64(), a["frames"][0].as_u64()),
            (Some(31), Some(28)),
            "{command}"
        );
    }
    let end = watch_end(&[cap[0], cap[1], f.path().to_str().unwrap()]);
    let e = &end["capture_findings"][0]["evidence"];
    assert_eq!(e["limit"], "invites-per-call", "{end}");
    assert_eq!(
        (e["count"].as_u64(), e["first_frame"].as_u64()),
        (Some(31), Some(28))
    );
}

/// A Call-ID carrying a new made-up method in every request grew its list of methods,
/// and the time to look each one up in it: 60,000 under one Call-ID took ten seconds
/// for a 14 MB capture. The call lists RFC 3261's methods and its extensions' whenever
/// they come, the first 32 others, and then `…`.
#[test]
fn a_call_lists_32_made_up_methods_then_an_ellipsis() {
    let f = write(|p| {
        let mut t = 1_000_000;
        setup(p, t, &pcap::ok(CALL_ID, CALLER, CALLEE, CALLEE_MEDIA))?;
        for n in 0..40 {
            t += 1_000_000;
            let method = format!("X-M{n:02}");
            p.udp(t, CALLER, CALLEE, &in_dialog_request(&method, 10 + n))?;
            p.udp(t + 1000, CALLEE, CALLER, &in_dialog_ok(&method, 10 + n))?;
        }
        p.udp(t + 2000, CALLER, CALLEE, &in_dialog_request("INFO", 99))?;
        p.hang_up(t + 1_000_000, CALL_ID, CALLER, CALLEE)
    });
    let o = sipdiag(&["calls", "--format", "json", f.path().to_str().unwrap()]);
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let methods: Vec<&str> = (c["calls"][0]["methods"].as_array().unwrap().iter())
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut expected = vec!["INVITE".to_string(), "ACK".to_string()];
    expected.extend((0..32).map(|n| format!("X-M{n:02}")));
    expected.extend(["…", "INFO", "BYE"].map(String::from));
    assert_eq!(methods, expected);
    // Every message still counts.
    assert_eq!(
        c["calls"][0]["messages"],
        3 + 80 + 1 + 2,
        "{}",
        c["calls"][0]
    );
}

/// An INVITE to XCC retransmitted 300 times, never answered (a UA that never gives up,
/// a flood under one transaction), grew the transaction by a frame per message: it lists
/// the first 64 retransmissions and counts them all.
#[test]
fn a_transaction_lists_64_retransmissions_and_counts_them_all() {
    let f = write(|p| {
        let invite = pcap::invite(CALL_ID, CALLER, CALLEE, CALLER_MEDIA);
        for n in 0..301 {
            p.udp(1_000_000 + n * 100_000, CALLER, CALLEE, &invite)?;
        }
        Ok(())
    });
    let v = analyze(f.path(), &["--xcc", "10.0.0.2"]);
    let fm010: Vec<&Value> = (v["findings"].as_array().unwrap().iter())
        .filter(|f| f["id"] == "FM010")
        .collect();
    assert_eq!(fm010.len(), 1, "{}", v["findings"]);
    let message = fm010[0]["message"].as_str().unwrap();
    assert!(message.contains("(300 retransmission(s))"), "{message}");
    let listed = fm010[0]["evidence"]["retransmissions"].as_array().unwrap();
    let first: Vec<u64> = (2..=65).collect();
    assert_eq!(
        listed
            .iter()
            .map(|f| f.as_u64().unwrap())
            .collect::<Vec<_>>(),
        first
    );
}

/// A phone's registration refreshed every minute for 25 hours under one Call-ID, each
/// refresh challenged: REGISTER, 401, REGISTER with credentials, 200 — 6,000 messages.
fn long_registration() -> tempfile::NamedTempFile {
    const PHONE: Addr = ([10, 0, 0, 7], 5062);
    write(|p| {
        let id = "reg-day";
        for i in 0..1_500u64 {
            let (t, cseq) = (1_000_000 + i * 60_000_000, 2 * i as u32 + 1);
            p.udp(
                t,
                PHONE,
                CALLEE,
                &pcap::register(id, PHONE, CALLEE, cseq, false),
            )?;
            let challenge = pcap::register_response(id, PHONE, CALLEE, cseq, "401 Unauthorized");
            p.udp(t + 1_000, CALLEE, PHONE, &challenge)?;
            p.udp(
                t + 2_000,
                PHONE,
                CALLEE,
                &pcap::register(id, PHONE, CALLEE, cseq + 1, true),
            )?;
            let ok = pcap::register_response(id, PHONE, CALLEE, cseq + 1, "200 OK");
            p.udp(t + 3_000, CALLEE, PHONE, &ok)?;
        }
        Ok(())
    })
}

/// Where calls retire (`calls`, `watch`), a registration held for the whole capture
/// lists its first and latest messages and counts its repeated refreshes instead of
/// listing them: its count stays exact and the message cap is never reached. `analyze`,
/// which keeps every call whole, lists them to the cap and says so.
#[test]
fn a_registration_refreshed_for_a_day_counts_its_repeats_without_listing_them() {
    let f = long_registration();
    let path = f.path().to_str().unwrap();
    let cap = ["--max-messages-per-call", "100"];
    let o = sipdiag(&["calls", "--format", "json", cap[0], cap[1], path]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let call = &c["calls"][0];
    assert_eq!(c["calls"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&call["messages"], &call["first_frame"], &call["last_frame"]),
        (&Value::from(6_000), &Value::from(1), &Value::from(6_000)),
        "{call}"
    );
    assert_eq!(call["methods"], serde_json::json!(["REGISTER"]));
    assert!(
        anomaly(&c, "call-message-limit").is_none(),
        "{}",
        c["captures"]
    );

    // `watch` judges it at the end, with no cap reached.
    let end = watch_end(&[cap[0], cap[1], path]);
    let limits: Vec<&Value> = (end["capture_findings"].as_array().unwrap().iter())
        .filter(|f| f["id"] == "CAP006")
        .collect();
    assert!(limits.is_empty(), "{end}");

    // Nor does `analyze`, which keeps every call until the end.
    let v = analyze(f.path(), &cap);
    assert!(
        anomaly(&v, "call-message-limit").is_none(),
        "{}",
        v["captures"]
    );

    // With the phone named XCC, FM001 (traffic but no INVITE) counts every message, the
    // repeats too, and `watch` says what `analyze` says.
    let xcc = ["--xcc", "10.0.0.7"];
    let v = analyze(f.path(), &xcc);
    let whole = finding(&v, "FM001");
    assert_eq!(whole["evidence"]["messages"], 6_000, "{whole}");
    let end = watch_end(&[xcc[0], xcc[1], path]);
    let fm001 = (end["capture_findings"].as_array().unwrap().iter())
        .find(|f| f["id"] == "FM001")
        .unwrap_or_else(|| panic!("no FM001 in {end}"));
    assert_eq!(fm001["evidence"], whole["evidence"]);
    assert_eq!(fm001["frames"], whole["frames"]);
}

/// The evidence kept across calls has caps that are flags too: past `--max-address-pairs`
/// the INVITEs between further pairs are not counted to name the PBXs, past
/// `--max-diverting-numbers` the XccDiversionPattern suggestion is proven on the first
/// numbers only; each is a CAP006 finding with the cap, the count and the first frame,
/// the same whether the capture is read as a stream or held whole. Expected values from
/// tshark: `many-calls.pcap` has 60 distinct Diversion numbers in its INVITEs
/// (`tshark -Y 'sip.Method==INVITE && sip.Diversion' -T fields -e frame.number -e
/// sip.Diversion`, the sixth first in frame 21) and 6 INVITEs from XCC (127.0.0.20) to
/// the PBX, the first in frame 40: the second pair of addresses.
#[test]
fn evidence_caps_across_calls_are_flags_and_findings() {
    let path = common::testdata("followme/many-calls.pcap");
    let flags = ["--max-diverting-numbers", "5", "--max-address-pairs", "1"];
    for v in [analyze(&path, &flags), analyze_whole(&path, &flags)] {
        let by_limit = |limit: &str| -> Value {
            let found: Vec<&Value> = (cap006(&v).into_iter())
                .filter(|f| f["evidence"]["limit"] == limit)
                .collect();
            assert_eq!(found.len(), 1, "{limit}: {found:?}");
            found[0]["evidence"].clone()
        };
        let numbers = by_limit("diverting-numbers");
        assert_eq!(numbers["flag"], "--max-diverting-numbers");
        assert_eq!(
            (&numbers["cap"], &numbers["count"], &numbers["first_frame"]),
            (&5.into(), &55.into(), &21.into())
        );
        assert_eq!(numbers["count_is_lower_bound"], false);
        let pairs = by_limit("address-pairs");
        assert_eq!(pairs["flag"], "--max-address-pairs");
        assert_eq!(
            (&pairs["cap"], &pairs["count"], &pairs["first_frame"]),
            (&1.into(), &6.into(), &40.into())
        );
        // The results they may have changed say so.
        let suggestion = &v["suggestions"][0];
        assert_eq!(suggestion["observed_truncated"], true, "{suggestion}");
        let reasons = v["roles"]["reasons"].to_string();
        assert!(reasons.contains("--max-address-pairs 1"), "{reasons}");
        // Counted with the others.
        assert_eq!(
            v["summary"]["findings_by_rule"]["CAP006"], 2,
            "{}",
            v["summary"]
        );
        assert_eq!(v["summary"]["warning"], 2, "{}", v["summary"]);
    }
    // At the defaults, neither cap is reached.
    let v = analyze(&path, &[]);
    assert!(cap006(&v).is_empty(), "{:?}", cap006(&v));
    assert!(v["suggestions"][0].get("observed_truncated").is_none());
}

/// `calls` answered calls (INVITE and 200 with SDP, ACK, BYE and its 200), every packet
/// stamped alike (a capture whose clock stands still), call `n` announcing one of four
/// media ports; `diverted`: each INVITE carries a Diversion header (its calls may be
/// Follow-Me legs, which wait for the legs they may be linked with).
fn frozen_clock_calls(calls: u32, diverted: bool) -> tempfile::NamedTempFile {
    write(|p| {
        const T: u64 = 1_000_000;
        for n in 0..calls {
            let id = format!("frozen-{n}");
            let media: Addr = (CALLER_MEDIA.0, 20000 + (n % 4) as u16 * 2);
            let mut invite = pcap::invite(&id, CALLER, CALLEE, media);
            if diverted {
                let text = String::from_utf8(invite).unwrap().replace(
                    "Max-Forwards: 70\r\n",
                    "Max-Forwards: 70\r\nDiversion: <sip:+4930123456@10.0.0.1>;reason=unconditional\r\n",
                );
                invite = text.into_bytes();
            }
            p.udp(T, CALLER, CALLEE, &invite)?;
            p.udp(
                T,
                CALLEE,
                CALLER,
                &pcap::ok(&id, CALLER, CALLEE, CALLEE_MEDIA),
            )?;
            p.udp(
                T,
                CALLER,
                CALLEE,
                &pcap::in_dialog("ACK", &id, CALLER, CALLEE),
            )?;
            p.udp(
                T,
                CALLER,
                CALLEE,
                &pcap::in_dialog("BYE", &id, CALLER, CALLEE),
            )?;
            p.udp(T, CALLEE, CALLER, &pcap::bye_ok(&id, CALLER, CALLEE))?;
        }
        Ok(())
    })
}

/// A capture whose clock stands still never ends the capture second calls retire in:
/// the calls that cannot be linked are judged in batches of 4,096 all the same (before,
/// every one of them retired at `--max-calls` waited for the end of the capture), with
/// the report `analyze` makes holding every call.
#[test]
fn calls_of_a_capture_whose_clock_stands_still_wait_in_bounded_batches() {
    let f = frozen_clock_calls(6_000, false);
    let path = f.path().to_str().unwrap();
    let end = watch_end(&["--max-calls", "1000", path]);
    assert_eq!(end["calls"], 6_000, "{end}");
    assert_eq!(end["reopened"], 0, "{end}");
    assert_eq!(end["peak_calls"], 1_000, "{end}");
    let waiting = end["peak_waiting"].as_u64().unwrap();
    assert!((1..=4_096).contains(&waiting), "{end}");
    let streamed = analyze(f.path(), &["--max-calls", "1000"]);
    assert_eq!(streamed["summary"]["calls"], 6_000);
    assert_eq!(streamed, analyze_whole(f.path(), &["--max-calls", "1000"]));
}

/// Calls that may be Follow-Me legs wait for the legs they may be linked with, which a
/// clock standing still never ends: once `--max-calls` wait they are judged, and CAP006
/// says how many and from which call on. Of 300, the first 100 and the next 100 are (the
/// last 100 are still held in progress at the end of the capture, and judged then).
#[test]
fn calls_waiting_for_their_legs_are_judged_at_the_cap_and_reported() {
    let f = frozen_clock_calls(300, true);
    let path = f.path().to_str().unwrap();
    let end = watch_end(&["--max-calls", "100", path]);
    assert_eq!(end["calls"], 300, "{end}");
    assert!(end["peak_waiting"].as_u64().unwrap() <= 100, "{end}");
    let v = analyze(f.path(), &["--max-calls", "100"]);
    assert_eq!(v["summary"]["calls"], 300);
    let a = anomaly(&v, "call-wait-limit").unwrap_or_else(|| panic!("{}", v["captures"]));
    assert_eq!(a["count"], 200, "{a}");
    // The first call's INVITE is the capture's first frame.
    assert_eq!(a["frames"], serde_json::json!([1]), "{a}");
    let found = cap006(&v);
    let f = (found.iter())
        .find(|f| f["evidence"]["anomaly"] == "call-wait-limit")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(f["evidence"]["flag"], "--max-calls");
    assert_eq!(f["evidence"]["limit"], "calls");
    // Nothing waits that long with the default cap.
    let v = analyze(std::path::Path::new(path), &[]);
    assert!(anomaly(&v, "call-wait-limit").is_none());
}

/// `calls` answered calls that never end (no BYE), all announcing the same two media
/// addresses (a PBX giving every call one port), each followed by 30 RTP packets to the
/// caller's address from a port of its own: a call without BYE may last to the end of
/// the capture, so the first call's one-way audio (SP005) covers every later stream.
fn one_port_calls_without_bye(calls: u16) -> tempfile::NamedTempFile {
    write(|p| {
        let mut t = 1_000_000u64;
        for n in 0..calls {
            let id = format!("one-port-{n}");
            setup_call(p, &id, t, &pcap::ok(&id, CALLER, CALLEE, CALLEE_MEDIA))?;
            let src: Addr = (CALLEE_MEDIA.0, 40000 + 2 * n);
            for i in 0..30u16 {
                t += 20_000;
                let rtp = pcap::rtp(i, u32::from(i) * 160, u32::from(n));
                p.udp(t, src, CALLER_MEDIA, &rtp)?;
            }
            t += 1_000_000;
        }
        Ok(())
    })
}

/// A one-way audio finding lists its first 8 streams (text, frames, evidence) and counts
/// the rest: on an address every call announces, a call without BYE covers the streams
/// of every later call, and listing them all made the report grow with the square of
/// the calls (5,000 such calls: 212 MB of JSON; with every call held, 11 GB of memory).
#[test]
fn a_one_way_finding_lists_eight_streams_and_counts_the_rest() {
    let f = one_port_calls_without_bye(20);
    for v in [analyze(f.path(), &[]), analyze_whole(f.path(), &[])] {
        let first = (v["findings"].as_array().unwrap().iter())
            .find(|f| f["id"] == "SP005" && f["call_id"] == "one-port-0")
            .unwrap_or_else(|| panic!("{}", v["findings"]));
        let e = &first["evidence"];
        assert_eq!(e["stream_count"], 20, "{e}");
        assert_eq!(e["streams"].as_array().unwrap().len(), 8, "{e}");
        assert_eq!(e["rtp_to_caller"], 600, "{e}");
        let message = first["message"].as_str().unwrap();
        assert!(message.contains(" and 12 more streams);"), "{message}");
        // The INVITE, its 200 and the ACK, then each listed stream's first and last.
        assert_eq!(first["frames"].as_array().unwrap().len(), 3 + 16, "{first}");
    }
}
