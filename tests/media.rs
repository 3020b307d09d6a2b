//! Media stage: STUN and RTP against tshark on the public corpus, and the SP rules on the
//! media fixtures of `testdata/media`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use sipdiag::app;
use sipdiag::calls::{Call, CallSet};
use sipdiag::media::{MediaReport, MediaSettings, MediaTracker};
use sipdiag::rules::Finding;
use sipdiag::rules::check_media;

/// Feeds a capture through the media tracker (and the SIP calls, for the rules), wired
/// as `sipdiag media` and `analyze` wire them.
struct MediaSink {
    tracker: MediaTracker,
    calls: CallSet,
}

fn scan(path: &Path) -> (MediaReport, Vec<Call>) {
    let mut sink = MediaSink {
        tracker: MediaTracker::new(MediaSettings::default()),
        calls: CallSet::default(),
    };
    app::scan_with(path.to_str().unwrap(), &mut sink.calls, &mut sink.tracker)
        .expect("readable capture");
    (sink.tracker.finish(), sink.calls.calls)
}

/// The media report of a capture.
fn media(path: &Path) -> MediaReport {
    scan(path).0
}

/// `path` → `path with / as __` as the oracle names its files.
fn oracle_name(path: &str) -> String {
    path.replace('/', "__") + ".tsv"
}

/// Known differences: (kind, path, item) → (what sipdiag reports, reason).
type Known = BTreeMap<(String, String, String), (String, String)>;

fn known_differences() -> Known {
    let p = common::testdata("oracle/known-media-differences.tsv");
    common::tsv(&p, "kind\t")
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 5, "known-media-differences.tsv row {r:?}");
            assert!(r[4].len() > 20, "{r:?} needs a reason");
            (
                (r[0].clone(), r[1].clone(), r[2].clone()),
                (r[3].clone(), r[4].clone()),
            )
        })
        .collect()
}

/// Scans a corpus capture; `None` when sipdiag cannot read it.
fn corpus_media(corpus: &Path, path: &str) -> Option<MediaReport> {
    let mut sink = MediaSink {
        tracker: MediaTracker::new(MediaSettings::default()),
        calls: CallSet::default(),
    };
    app::scan_with(
        corpus.join(path).to_str().unwrap(),
        &mut sink.calls,
        &mut sink.tracker,
    )
    .ok()?;
    Some(sink.tracker.finish())
}

#[test]
fn stun_counts_match_tshark() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let known = known_differences();
    let rows = common::tsv(&common::testdata("oracle/stun-counts.tsv"), "path\t");
    assert!(rows.len() >= 6);
    let (mut same, mut differ) = (0, 0);
    for r in &rows {
        let (path, tshark) = (&r[0], r[1].parse::<u64>().unwrap());
        let m = corpus_media(&corpus, path).expect("readable capture");
        let key = (
            "stun".to_string(),
            path.clone(),
            "stun_messages".to_string(),
        );
        match known.get(&key) {
            Some((v, why)) => {
                assert_eq!(m.stun_messages.to_string(), *v, "{path}: {why}");
                assert_ne!(m.stun_messages, tshark, "{path} now agrees with tshark");
                differ += 1;
            }
            None => {
                assert_eq!(m.stun_messages, tshark, "{path}: STUN messages vs tshark");
                same += 1;
            }
        }
        // Transactions: every request once, retransmissions apart, never more than messages.
        let requests: u64 = m
            .stun
            .iter()
            .map(|t| 1 + t.retransmission_frames.len() as u64)
            .sum();
        assert!(
            requests <= m.stun_messages + m.classic_stun_messages,
            "{path}"
        );
    }
    eprintln!("STUN: {same} captures equal to tshark, {differ} known differences");
}

/// (src, dst, ssrc) → "packets/lost"
type Streams = BTreeMap<(String, String, String), String>;

fn oracle_streams(path: &str) -> Streams {
    let p = common::testdata(&format!("oracle/rtp-streams/{}", oracle_name(path)));
    if !p.exists() {
        return Streams::new();
    }
    common::tsv(&p, "#")
        .into_iter()
        .map(|r| {
            let src = sock(&r[0], &r[1]);
            let dst = sock(&r[2], &r[3]);
            ((src, dst, r[4].clone()), format!("{}/{}", r[6], r[7]))
        })
        .collect()
}

fn sock(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn our_streams(m: &MediaReport) -> Streams {
    m.rtp
        .iter()
        .map(|s| {
            (
                (s.src.to_string(), s.dst.to_string(), s.ssrc_hex()),
                format!("{}/{}", s.packets, s.lost),
            )
        })
        .collect()
}

#[test]
fn rtp_streams_match_tshark() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let known = known_differences();
    let rows = common::tsv(&common::testdata("oracle/rtp-counts.tsv"), "path\t");
    assert!(rows.len() >= 70);
    let (mut files_same, mut files_known, mut streams_same, mut streams_known) = (0, 0, 0, 0);
    for r in &rows {
        let path = &r[0];
        let mut want = oracle_streams(path);
        assert_eq!(
            want.len(),
            r[1].parse::<usize>().unwrap(),
            "{path}: rtp-counts.tsv and rtp-streams/ disagree"
        );
        let Some(m) = corpus_media(&corpus, path) else {
            // Not a pcap/pcapng file (see known-differences.tsv); tshark has no RTP there.
            assert!(want.is_empty(), "{path}: unreadable but tshark found RTP");
            continue;
        };
        // Replace tshark's value by sipdiag's where a difference is explained.
        let (mut explained, mut explained_present) = (0, 0);
        for ((kind, p, item), (value, _)) in &known {
            if kind != "rtp" || p != path {
                continue;
            }
            let f: Vec<&str> = item.split(' ').collect();
            let k = (f[0].to_string(), f[1].to_string(), f[2].to_string());
            assert!(
                want.contains_key(&k) || value != "none",
                "{path}: {item} unknown"
            );
            if value == "none" {
                want.remove(&k);
            } else {
                want.insert(k, value.clone());
                explained_present += 1;
            }
            explained += 1;
        }
        let got = our_streams(&m);
        assert_eq!(
            got, want,
            "{path}: RTP streams (src, dst, ssrc) → packets/lost"
        );
        streams_same += got.len() - explained_present;
        streams_known += explained;
        if explained == 0 {
            files_same += 1;
        } else {
            files_known += 1;
        }
    }
    eprintln!(
        "RTP: {files_same} captures equal to tshark, {files_known} with known differences \
         ({streams_same} streams equal, {streams_known} explained)"
    );
}

/// SP findings on a fixture of `testdata/media`.
fn findings(name: &str) -> (MediaReport, Vec<Finding>) {
    let (m, calls) = scan(&common::testdata(&format!("media/{name}.pcap")));
    let f = check_media(&m, &calls);
    (m, f)
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    let mut v: Vec<&str> = f.iter().map(|f| f.id).collect();
    v.sort();
    v
}

fn only<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    let v: Vec<&Finding> = f.iter().filter(|f| f.id == id).collect();
    assert_eq!(v.len(), 1, "exactly one {id} in {:?}", ids(f));
    v[0]
}

fn addr(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap()
}

const CLIENT: &str = "127.0.0.50:49200";
const SERVER: &str = "127.0.0.60:30010";

#[test]
fn healthy_softphone_call_has_no_findings() {
    let (m, f) = findings("ice-ok-rtp");
    assert!(f.is_empty(), "{f:#?}");
    // tshark: 6 STUN messages, 3 requests each answered, 2 RTP streams of 100 packets.
    assert_eq!(m.stun_messages, 6);
    assert_eq!(m.stun.len(), 3);
    assert!(
        m.stun
            .iter()
            .all(|t| t.answered() && t.retransmission_frames.is_empty())
    );
    let frames: Vec<(u64, Option<u64>)> = m
        .stun
        .iter()
        .map(|t| (t.request_frame, t.response_frame))
        .collect();
    assert_eq!(frames, vec![(10, Some(11)), (12, Some(13)), (14, Some(15))]);
    assert!(m.stun[2].use_candidate);
    assert_eq!(m.stun[0].ice_role.as_deref(), Some("controlling"));
    assert_eq!(m.stun[1].ice_role.as_deref(), Some("controlled"));
    assert_eq!(m.stun[0].username.as_deref(), Some("Sv4k:Xc9f"));
    assert_eq!(m.stun[0].mapped_address, Some(addr(CLIENT)));
    assert_eq!(m.rtp.len(), 2);
    for s in &m.rtp {
        assert_eq!((s.packets, s.lost, s.duplicates), (100, 0, 0), "{s:?}");
        assert_eq!(s.recognised_by, "stun");
        assert_eq!(s.codec.as_deref(), Some("PCMU"));
        assert!(s.max_jitter_ms < 5.0, "{s:?}");
    }
    assert_eq!(m.softphone.len(), 1);
    let sig = &m.softphone[0];
    assert_eq!(
        (sig.client, sig.server),
        (addr("127.0.0.50:41230"), addr("127.0.0.60:2230"))
    );
    assert_eq!(sig.frames, vec![4, 6, 8, 16, 17, 219, 220]);
    assert_eq!(m.side(addr(CLIENT)), sipdiag::media::Side::Client);
    assert_eq!(m.side(addr(SERVER)), sipdiag::media::Side::Server);
}

#[test]
fn healthy_sip_call_has_no_findings() {
    let (m, f) = findings("sip-rtp-both");
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(m.stun_messages, 0);
    assert_eq!(m.rtp.len(), 2);
    let mut got: Vec<(u32, u64, i64, u64)> = m
        .rtp
        .iter()
        .map(|s| (s.ssrc, s.packets, s.lost, s.first_frame))
        .collect();
    got.sort();
    assert_eq!(got, vec![(0x3C5A0B11, 100, 0, 7), (0x4D6E1F22, 100, 0, 6)]);
    for s in &m.rtp {
        assert_eq!(s.call_id.as_deref(), Some("sip-rtp-both-1@127.0.0.70"));
        assert_eq!(s.recognised_by, "sdp");
        assert_eq!(s.codec.as_deref(), Some("PCMU"));
    }
    // Both SDP addresses announced, each receiving the other's 100 packets.
    let mut ann: Vec<(String, u64, u64, u64)> = m
        .announced
        .iter()
        .map(|a| (a.addr.to_string(), a.frame, a.rtp_received, a.rtp_sent))
        .collect();
    ann.sort();
    assert_eq!(
        ann,
        vec![
            ("127.0.0.70:20000".to_string(), 1, 100, 100),
            ("127.0.0.80:40000".to_string(), 4, 100, 100)
        ]
    );
}

#[test]
fn sp001_fires_when_no_check_is_answered() {
    let (m, f) = findings("ice-blocked");
    assert_eq!(ids(&f), vec!["SP001"], "{f:#?}");
    let x = only(&f, "SP001");
    assert_eq!(x.frames, (10..=19).collect::<Vec<u64>>());
    assert_eq!(x.severity, sipdiag::rules::Severity::Error);
    // The message names both directions with the ports to open on each side.
    assert!(x.message.contains("UDP 30000-33000"), "{}", x.message);
    assert!(x.message.contains("UDP 49152-65535"), "{}", x.message);
    // Once per firewall, with the port pair that failed there.
    assert!(
        x.message.contains(
            "inbound to the server 127.0.0.60 from 127.0.0.50 (port pair 127.0.0.50:49200 → 127.0.0.60:30010)"
        ),
        "{}",
        x.message
    );
    assert!(
        x.message.contains(
            "inbound to the client 127.0.0.50 from 127.0.0.60 (port pair 127.0.0.60:30010 → 127.0.0.50:49200)"
        ),
        "{}",
        x.message
    );
    assert_eq!(x.message.matches("allow UDP").count(), 2, "{}", x.message);
    assert!(x.message.contains("Windows"), "{}", x.message);
    assert_eq!(x.evidence["checks"].as_array().unwrap().len(), 2);
    // Two transactions, each sent five times.
    assert_eq!(m.stun_messages, 10);
    let tx: Vec<(u64, Vec<u64>)> = m
        .stun
        .iter()
        .map(|t| (t.request_frame, t.retransmission_frames.clone()))
        .collect();
    assert_eq!(
        tx,
        vec![(10, vec![12, 14, 16, 18]), (11, vec![13, 15, 17, 19])]
    );
    assert!(m.rtp.is_empty());
}

#[test]
fn sp002_fires_when_only_one_direction_is_answered() {
    let (m, f) = findings("ice-one-way");
    assert_eq!(ids(&f), vec!["SP002"], "{f:#?}");
    let x = only(&f, "SP002");
    // The answered sample (10 → 11) and the server's unanswered checks.
    assert_eq!(x.frames, vec![10, 11, 12, 15, 18, 21, 24]);
    assert!(
        x.message
            .contains("from the server 127.0.0.60:30010 to the client 127.0.0.50:49200"),
        "{}",
        x.message
    );
    assert!(x.message.contains("UDP 49152-65535"), "{}", x.message);
    assert!(
        x.message.contains(
            "inbound to the client 127.0.0.50 from 127.0.0.60 (port pair 127.0.0.60:30010 → 127.0.0.50:49200)"
        ),
        "{}",
        x.message
    );
    assert_eq!(m.stun_messages, 15);
    let client = m.stun.iter().find(|t| t.src == addr(CLIENT)).unwrap();
    assert_eq!(client.retransmission_frames, vec![13, 16, 19, 22]);
    assert_eq!(client.response_frames, vec![11, 14, 17, 20, 23]);
    let server = m.stun.iter().find(|t| t.src == addr(SERVER)).unwrap();
    assert_eq!(server.request_frame, 12);
    assert_eq!(server.response_frame, None);
}

#[test]
fn sp003_fires_on_signalling_without_media() {
    let (m, f) = findings("media-missing");
    assert_eq!(ids(&f), vec!["SP003"], "{f:#?}");
    let x = only(&f, "SP003");
    assert_eq!(x.frames, vec![4, 6, 8, 10, 11, 13, 14]);
    assert!(x.message.contains("127.0.0.60:2230"), "{}", x.message);
    assert!(x.message.contains("UDP 49152-65535") && x.message.contains("30000-33000"));
    assert_eq!((m.stun_messages, m.rtp.len(), m.udp_datagrams), (0, 0, 0));
}

#[test]
fn sp004_fires_when_media_goes_to_another_server_address() {
    let (_, f) = findings("multihomed");
    let x = only(&f, "SP004");
    assert_eq!(x.frames, vec![4, 10, 11, 12, 13, 14]);
    assert!(x.message.contains("127.0.0.61"), "{}", x.message);
    assert!(x.message.contains("127.0.0.60:2230"), "{}", x.message);
    // The unanswered checks are also reported as such; nothing else.
    assert_eq!(ids(&f), vec!["SP001", "SP004"], "{f:#?}");
    assert_eq!(only(&f, "SP001").frames, vec![10, 11, 12, 13, 14]);
}

#[test]
fn sp005_fires_on_one_way_rtp_of_a_sip_call() {
    let (m, f) = findings("sip-rtp-one-way");
    assert_eq!(ids(&f), vec!["SP005"], "{f:#?}");
    let x = only(&f, "SP005");
    assert_eq!(x.call_id.as_deref(), Some("sip-rtp-one-way-1@127.0.0.70"));
    // INVITE 1, 200 (with the answer) 4, ACK 5, the stream's first and last frames.
    assert_eq!(x.frames, vec![1, 4, 5, 6, 105]);
    assert!(x.message.contains("127.0.0.70:20000"), "{}", x.message);
    assert_eq!(x.evidence["silent_side"], "caller");
    assert_eq!(m.rtp.len(), 1);
    assert_eq!(
        (m.rtp[0].ssrc, m.rtp[0].packets, m.rtp[0].lost),
        (0x3C5A0B11, 100, 0)
    );
}

#[test]
fn sp006_fires_on_the_lossy_stream_only() {
    let (m, f) = findings("rtp-loss");
    assert_eq!(ids(&f), vec!["SP006"], "{f:#?}");
    let x = only(&f, "SP006");
    assert_eq!(x.severity, sipdiag::rules::Severity::Warning);
    assert_eq!(x.evidence["ssrc"], "0x2A6B1C01");
    // By addresses: Wireshark decodes this stream as RTP only with its RTP heuristics on.
    assert_eq!(
        x.wireshark_filter,
        "(ip.src == 127.0.0.50 && udp.srcport == 49200 && ip.dst == 127.0.0.60 && udp.dstport == 30010)"
    );
    // First and last frame of the stream, and the packet after each of the 10 gaps.
    assert_eq!(
        x.frames,
        vec![20, 31, 50, 69, 88, 107, 126, 145, 164, 183, 202, 208]
    );
    let lossy = m.rtp.iter().find(|s| s.ssrc == 0x2A6B1C01).unwrap();
    assert_eq!((lossy.packets, lossy.expected, lossy.lost), (90, 100, 10));
    let clean = m.rtp.iter().find(|s| s.ssrc == 0x7E3D9F02).unwrap();
    assert_eq!((clean.packets, clean.lost), (100, 0));
}

/// The tshark summary next to each fixture (`NAME.tshark.txt`, written by oracle.sh):
/// STUN message count and `rtp,streams` rows as (src, dst, ssrc) → "packets/lost".
/// Mean and maximum jitter (ms) per SSRC as tshark prints them.
type Jitters = BTreeMap<String, (f64, f64)>;

fn fixture_oracle(name: &str) -> (u64, Streams, Jitters) {
    let text = std::fs::read_to_string(common::testdata(&format!("media/{name}.tshark.txt")))
        .expect("fixture oracle");
    let stun = text
        .lines()
        .find_map(|l| l.strip_prefix("stun counts: messages "))
        .and_then(|r| r.split(',').next()?.trim().parse().ok())
        .expect("stun counts line");
    let mut streams = Streams::new();
    let mut jitter = Jitters::new();
    let mut in_rtp = false;
    for l in text.lines() {
        if l.starts_with("## rtp") {
            in_rtp = true;
            continue;
        }
        if l.starts_with("## ") {
            in_rtp = false;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        // start end src sport dst dport ssrc payload pkts lost (pct) ...
        if in_rtp && f.len() > 10 && f[6].starts_with("0x") {
            let lost = f[9];
            streams.insert(
                (sock(f[2], f[3]), sock(f[4], f[5]), f[6].to_string()),
                format!("{}/{}", f[8], lost),
            );
            // … lost (pct) min/mean/max delta, min/mean/max jitter [X]
            let pct = f
                .iter()
                .position(|x| x.ends_with("%)"))
                .expect("loss percentage");
            let ms = |i: usize| f[pct + i].parse::<f64>().unwrap();
            jitter.insert(f[6].to_string(), (ms(5), ms(6)));
        }
    }
    (stun, streams, jitter)
}

#[test]
fn fixtures_match_their_tshark_summaries() {
    let names = [
        "ice-ok-rtp",
        "ice-blocked",
        "ice-one-way",
        "media-missing",
        "multihomed",
        "sip-rtp-one-way",
        "sip-rtp-both",
        "rtp-loss",
    ];
    for name in names {
        let (stun, streams, jitter) = fixture_oracle(name);
        let m = media(&common::testdata(&format!("media/{name}.pcap")));
        assert_eq!(m.stun_messages, stun, "{name}: STUN messages");
        assert_eq!(our_streams(&m), streams, "{name}: RTP streams");
        // Jitter as RFC 3550 §A.8 (tshark prints milliseconds with 3 decimals).
        for s in &m.rtp {
            let (mean, max) = jitter[&s.ssrc_hex()];
            assert!(
                (s.mean_jitter_ms - mean).abs() < 0.002 && (s.max_jitter_ms - max).abs() < 0.002,
                "{name} {}: jitter mean/max {:.3}/{:.3}, tshark {mean}/{max}",
                s.ssrc_hex(),
                s.mean_jitter_ms,
                s.max_jitter_ms
            );
        }
    }
}

/// A SIP call answered with SDP whose media addresses see nothing (public corpus).
#[test]
fn sp003_fires_on_a_sip_call_without_media() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let (m, calls) = scan(&corpus.join("goffinet/voip-extension.pcap"));
    let f = check_media(&m, &calls);
    let x = only(&f, "SP003");
    assert_eq!(
        x.call_id.as_deref(),
        Some("f49fa0af-e84c7379-6649d13e-60bbc1c9@192.168.5.10")
    );
    // INVITE, 200 with the answer, ACK.
    assert_eq!(x.frames, vec![583, 602, 604]);
    assert_eq!(x.severity, sipdiag::rules::Severity::Error);
    assert!(x.message.contains("192.168.5.20:8024"), "{}", x.message);
    // The capture's other call has media both ways: nothing else fires.
    assert_eq!(ids(&f), vec!["SP003"]);
}

/// Captures with SIP only: one warning for all silent calls of at least a second, not one
/// per call; calls torn down at once say nothing about media.
#[test]
fn sp003_summarises_calls_of_a_signalling_only_capture() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let (m, calls) = scan(&corpus.join("goffinet/branch-scenario-sipp.pcapng"));
    assert_eq!(m.udp_datagrams, 0);
    let f = check_media(&m, &calls);
    assert_eq!(ids(&f), vec!["SP003"]);
    assert_eq!(f[0].severity, sipdiag::rules::Severity::Warning);
    assert_eq!(f[0].call_id, None);
    assert!(
        f[0].title.starts_with("88 answered call(s)"),
        "{}",
        f[0].title
    );
    // sipp calls hung up within a second: nothing to report.
    let (m, calls) = scan(&corpus.join("goffinet/uac-uas-scenario-sipp.pcapng"));
    assert!(calls.len() > 700);
    assert!(check_media(&m, &calls).is_empty());
}

/// `media` of one capture writes its rows to spool files in the temporary directory as
/// they are finished. Where none can be written, a file is read again whole (the same
/// listing); standard input cannot be, and the error names the directory (exit 2).
#[test]
fn without_a_temporary_directory_media_reads_the_capture_whole() {
    let capture = "testdata/followme/busy-site.pcap";
    let run = |tmp: Option<&str>, args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"));
        c.args(args).env("COLUMNS", "100");
        if let Some(t) = tmp {
            c.env("TMPDIR", t);
        }
        if args.contains(&"-") {
            c.stdin(std::fs::File::open(capture).unwrap());
        }
        c.output().unwrap()
    };
    let spooled = run(None, &["media", "-f", "json", capture]);
    assert_eq!(spooled.status.code(), Some(0));
    let rtp = serde_json::from_slice::<serde_json::Value>(&spooled.stdout).unwrap()["media"]["rtp"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(rtp > 10, "{rtp} streams");
    let missing = "/nonexistent/sipdiag-tmp";
    let whole = run(Some(missing), &["media", "-f", "json", capture]);
    assert_eq!(
        whole.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    assert_eq!(whole.stdout, spooled.stdout);
    let stdin = run(Some(missing), &["media", "-f", "json", "-"]);
    assert_eq!(stdin.status.code(), Some(2));
    let err = String::from_utf8_lossy(&stdin.stderr);
    assert!(err.contains(missing), "{err}");
    assert!(stdin.stdout.is_empty());
}
