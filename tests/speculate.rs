//! `analyze` of one file judges each call as it ends, with what the capture has shown so
//! far, and reads the file once when the whole capture shows the same. Where it does not
//! (XCC identified by a later message, a site inferred otherwise once more numbers came, a
//! 503 judged before its trunk was seen working elsewhere, an answered call without media
//! judged before any UDP came), the file is read again: the report is in every case the
//! one `--in-memory` gives, which judges every call with the whole capture. The captures
//! are written here (Ethernet / IPv4 / UDP, classic pcap).

mod common;
#[path = "limits/pcap.rs"]
mod pcap;

use common::*;
use pcap::{Addr, Pcap};
use serde_json::Value;

const PBX: Addr = ([10, 0, 0, 1], 5060);
const XCC: Addr = ([10, 0, 0, 2], 5060);
/// Another trunk of XCC: the same address, another port.
const XCC_OTHER_TRUNK: Addr = ([10, 0, 0, 2], 5070);

use pcap::written as write;

/// `analyze --format FORMAT --fail-on none FLAGS PATH`: the report as written.
fn report(path: &std::path::Path, format: &str, flags: &[&str]) -> String {
    let mut args = vec!["analyze", "--format", format, "--fail-on", "none"];
    args.extend_from_slice(flags);
    args.push(path.to_str().unwrap());
    let o = sipdiag(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

/// `analyze --format json --fail-on none FLAGS -` with the capture at `path` written into
/// a pipe on standard input: read again, where it must be, from its copy.
fn piped_report(path: &std::path::Path, flags: &[&str]) -> String {
    let o = piped_into(
        std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
            .args(["analyze", "--format", "json", "--fail-on", "none"])
            .args(flags)
            .arg("-"),
        path,
    );
    assert_eq!(o.status.code(), Some(0));
    stdout(&o)
}

/// The JSON report read as a stream, checked against `--in-memory`'s and against that of
/// the capture piped in on standard input (and the verbose markdown report likewise).
fn streamed_is_whole(path: &std::path::Path, flags: &[&str]) -> Value {
    let mut whole = flags.to_vec();
    whole.push("--in-memory");
    let json = report(path, "json", flags);
    assert_eq!(json, report(path, "json", &whole), "JSON");
    let p = path.to_str().unwrap();
    assert_eq!(json.replace(p, "-"), piped_report(path, flags), "piped");
    let mut verbose = flags.to_vec();
    verbose.push("--verbose");
    let mut whole_verbose = whole.clone();
    whole_verbose.push("--verbose");
    assert_eq!(
        report(path, "markdown", &verbose),
        report(path, "markdown", &whole_verbose),
        "markdown"
    );
    serde_json::from_str(&json).unwrap()
}

fn ip(a: Addr) -> String {
    pcap::ip_str(a.0)
}

/// A forwarded call's INVITE from `src` to `dst` (the Request-URI's number `target`, one
/// Diversion entry `diverted`), without a body, and what `dst` answers after `answer_ms`:
/// `status` (`200 OK` is followed by the ACK, and a BYE and its 200 a second later).
#[allow(clippy::too_many_arguments)]
fn forwarded(
    p: &mut Pcap<Vec<u8>>,
    t: u64,
    id: &str,
    src: Addr,
    dst: Addr,
    target: &str,
    diverted: &str,
    status: &str,
) -> std::io::Result<()> {
    let (s, d, sp, dp) = (ip(src), ip(dst), src.1, dst.1);
    let via = format!("Via: SIP/2.0/UDP {s}:{sp};branch=z9hG4bK-{id}");
    let dialog = format!(
        "From: <sip:0301111@{s}>;tag=f{id}\r\nTo: <sip:{target}@{d}>{}\r\nCall-ID: {id}",
        if status == "200 OK" {
            format!(";tag=t{id}")
        } else {
            String::new()
        }
    );
    let invite = format!(
        "INVITE sip:{target}@{d}:{dp} SIP/2.0\r\n{via}\r\nFrom: <sip:0301111@{s}>;tag=f{id}\r\nTo: <sip:{target}@{d}>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\nContact: <sip:0301111@{s}:{sp}>\r\nDiversion: <sip:{diverted}@{s}>;reason=unconditional;counter=1\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    p.udp(t, src, dst, invite.as_bytes())?;
    let answer = format!(
        "SIP/2.0 {status}\r\n{via}\r\n{dialog}\r\nCSeq: 1 INVITE\r\nContact: <sip:{target}@{d}:{dp}>\r\nContent-Length: 0\r\n\r\n"
    );
    p.udp(t + 20_000, dst, src, answer.as_bytes())?;
    let in_dialog = |method: &str, cseq: u32| {
        format!(
            "{method} sip:{target}@{d}:{dp} SIP/2.0\r\nVia: SIP/2.0/UDP {s}:{sp};branch=z9hG4bK-{method}{id}\r\n{dialog}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
    };
    if status == "200 OK" {
        p.udp(t + 30_000, src, dst, in_dialog("ACK", 1).as_bytes())?;
        p.udp(t + 1_030_000, src, dst, in_dialog("BYE", 2).as_bytes())?;
        let ok = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {s}:{sp};branch=z9hG4bK-BYE{id}\r\n{dialog}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        );
        p.udp(t + 1_040_000, dst, src, ok.as_bytes())?;
    } else {
        p.udp(t + 30_000, src, dst, in_dialog("ACK", 1).as_bytes())?;
    }
    Ok(())
}

/// Seconds in microseconds.
const S: u64 = 1_000_000;

/// A TCP segment (no SIP, no UDP) every 5 s from `from` to `to` (seconds): the capture's
/// clock moves on, and the calls that have ended are judged before the next SIP message.
fn ticks(p: &mut Pcap<Vec<u8>>, from: u64, to: u64) -> std::io::Result<()> {
    let (a, b) = (([10, 0, 9, 1], 40000), ([10, 0, 9, 2], 22));
    for (i, t) in (from..to).step_by(5).enumerate() {
        p.tcp(t * S, a, b, i as u32, pcap::ACK, &[])?;
    }
    Ok(())
}

/// Call `fm-1` at 1 s, forwarded by the PBX to XCC with the Diversion number `diverted`
/// and refused with 503; then only the clock moves until 120 s (it has been judged).
fn refused_then_quiet(p: &mut Pcap<Vec<u8>>, diverted: &str) -> std::io::Result<()> {
    forwarded(
        p,
        S,
        "fm-1",
        PBX,
        XCC,
        "8000",
        diverted,
        "503 Service Unavailable",
    )?;
    ticks(p, 2, 120)
}

fn ids_on(v: &Value, call: &str) -> Vec<String> {
    (v["findings"].as_array().unwrap().iter())
        .filter(|f| f["call_id"] == call)
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_follow_me_failure_before_xcc_is_identified_is_judged_with_xcc() {
    // The forwarded call XCC refuses comes first; XCC names itself only on an OPTIONS
    // keep-alive two minutes later, long after the call was judged.
    let capture = write(|p| {
        refused_then_quiet(p, "0301234567")?;
        let (x, b) = (ip(XCC), ip(PBX));
        let options = format!(
            "OPTIONS sip:{b}:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {x}:5060;branch=z9hG4bK-opt\r\nFrom: <sip:xcc@{x}>;tag=o1\r\nTo: <sip:{b}>\r\nCall-ID: keepalive-1\r\nCSeq: 1 OPTIONS\r\nUser-Agent: XPhone Connect XCC\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        p.udp(120 * S, XCC, PBX, options.as_bytes())?;
        let ok = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {x}:5060;branch=z9hG4bK-opt\r\nFrom: <sip:xcc@{x}>;tag=o1\r\nTo: <sip:{b}>;tag=o2\r\nCall-ID: keepalive-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        p.udp(120 * S + 1000, PBX, XCC, ok.as_bytes()).map(|_| ())
    });
    let v = streamed_is_whole(capture.path(), &[]);
    assert_eq!(v["roles"]["xcc"], serde_json::json!(["10.0.0.2"]), "{v:#}");
    // A national number XCC does not recognise: the pattern that fixes it.
    assert_eq!(ids_on(&v, "fm-1"), ["FM002"], "{v:#}");
}

#[test]
fn a_503_judged_before_its_trunk_was_seen_working_elsewhere_is_the_wrong_trunk() {
    // XCC refuses a forwarded call on one trunk; on another, later, forwarded calls work:
    // the first was sent to the wrong trunk (FM005), not refused for its user (FM004).
    let capture = write(|p| {
        refused_then_quiet(p, "+49301234567")?;
        forwarded(
            p,
            120 * S,
            "fm-2",
            PBX,
            XCC_OTHER_TRUNK,
            "8000",
            "+49301234568",
            "200 OK",
        )
    });
    let v = streamed_is_whole(capture.path(), &["--xcc", "10.0.0.2"]);
    assert!(!ids_on(&v, "fm-1").contains(&"FM004".to_string()), "{v:#}");
    assert!(ids(&v).contains(&"FM005".to_string()), "{v:#}");
}

#[test]
fn a_call_judged_before_the_site_was_inferred_otherwise_is_judged_with_the_whole_site() {
    // The first forwarded number has three digits, the five that come later four: the
    // internal number length is four, and the first number is not an internal one.
    let capture = write(|p| {
        refused_then_quiet(p, "201")?;
        for i in 0..5u64 {
            let id = format!("fm-{}", i + 2);
            let number = format!("{}", 2001 + i);
            forwarded(
                p,
                (120 + 10 * i) * S,
                &id,
                PBX,
                XCC,
                "8000",
                &number,
                "200 OK",
            )?;
        }
        Ok(())
    });
    let v = streamed_is_whole(capture.path(), &["--xcc", "10.0.0.2"]);
    assert_eq!(v["site"]["internal_length"], 4, "{v:#}");
    assert!(!ids_on(&v, "fm-1").is_empty(), "{v:#}");
}

const CALLER: Addr = ([10, 0, 0, 1], 5060);
const CALLEE: Addr = ([10, 0, 0, 7], 5060);

/// A call from `t` on, answered with SDP both ways and ended after `secs`, with `rtp`
/// packets from the caller's media address (`port`) to the callee's.
fn media_call(
    p: &mut Pcap<Vec<u8>>,
    t: u64,
    id: &str,
    port: u16,
    secs: u64,
    rtp: u16,
) -> std::io::Result<()> {
    let (caller_media, callee_media) = (([10, 0, 0, 1], port), ([10, 0, 0, 7], port));
    p.udp(
        t,
        CALLER,
        CALLEE,
        &pcap::invite(id, CALLER, CALLEE, caller_media),
    )?;
    p.udp(
        t + 1000,
        CALLEE,
        CALLER,
        &pcap::ok(id, CALLER, CALLEE, callee_media),
    )?;
    p.udp(
        t + 2000,
        CALLER,
        CALLEE,
        &pcap::in_dialog("ACK", id, CALLER, CALLEE),
    )?;
    for i in 0..rtp {
        let at = t + 20_000 * (u64::from(i) + 1);
        p.udp(
            at,
            caller_media,
            callee_media,
            &pcap::rtp(i, u32::from(i) * 160, 7),
        )?;
    }
    p.hang_up(t + secs * S, id, CALLER, CALLEE)
}

/// The UDP count the SP003 finding on `call` quotes.
fn udp_quoted(v: &Value, call: &str) -> u64 {
    let f = (v["findings"].as_array().unwrap().iter())
        .find(|f| f["id"] == "SP003" && f["call_id"] == call)
        .unwrap_or_else(|| panic!("no SP003 on {call}: {v:#}"));
    f["evidence"]["udp_datagrams_in_capture"].as_u64().unwrap()
}

#[test]
fn calls_without_media_judged_before_any_udp_came_are_judged_with_the_capture_s_udp() {
    // Until UDP comes, a call without media cannot be told from a capture filtered to
    // signalling: more such calls than a reading that judges as it goes keeps whole.
    const SILENT: u64 = 1001;
    let capture = write(|p| {
        for i in 0..SILENT {
            let id = format!("silent-call{i:04}");
            media_call(p, S + i * 10_000, &id, 20000 + 2 * (i % 1000) as u16, 5, 0)?;
        }
        ticks(p, 20, 120)?;
        media_call(p, 120 * S, "talking-call", 30000, 5, 50)
    });
    let v = streamed_is_whole(capture.path(), &[]);
    let udp = (v["findings"].as_array().unwrap().iter())
        .filter(|f| f["id"] == "SP003" && f["call_id"] != "talking-call")
        .map(|f| f["evidence"]["udp_datagrams_in_capture"].as_u64())
        .collect::<Vec<_>>();
    assert_eq!(udp, vec![Some(50); SILENT as usize]);
}

#[test]
fn a_call_without_media_quotes_the_udp_of_the_whole_capture() {
    // UDP before the silent call and after it: judged as it ends, it has seen 30 datagrams
    // of the 80 the capture holds.
    let capture = write(|p| {
        media_call(p, S, "talking-call01", 20000, 2, 30)?;
        media_call(p, 4 * S, "silent-call02", 20002, 5, 0)?;
        ticks(p, 10, 120)?;
        media_call(p, 120 * S, "talking-call03", 20004, 2, 50)
    });
    let v = streamed_is_whole(capture.path(), &[]);
    assert_eq!(udp_quoted(&v, "silent-call02"), 80, "{v:#}");
}
