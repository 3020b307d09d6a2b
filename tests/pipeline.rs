//! The two-thread scan (`app::scan_all_with`) delivers exactly what the single-thread
//! scan does: to the sink the same messages and clock ticks in the same order, to the packet sink (which
//! runs beside the sink) the same packets and messages in the same order, and the same
//! reports, on every fixture and on the public corpus.

mod common;

use sipdiag::app::{self, PacketSink, Sink};
use sipdiag::media::UdpPayload;
use sipdiag::net::{Datagram, IcmpError, StreamEvent};
use sipdiag::sip::SipMessage;

/// Every call a sink receives, as text.
#[derive(Default)]
struct Trace(Vec<String>);

impl Sink for Trace {
    fn capture_start(&mut self, index: usize) {
        self.0.push(format!("capture {index}"));
    }
    fn clock(&mut self, now: sipdiag::capture::Timestamp) {
        self.0.push(format!("clock {now:?}"));
    }
    fn message(&mut self, m: SipMessage) {
        self.0.push(format!(
            "message {} {:?} {} {} {:?} {:?} {:?} {:?} {:?}",
            m.frame,
            m.frames(),
            m.src,
            m.summary(),
            m.call_id(),
            m.problems,
            m.body,
            m.header_lines().collect::<Vec<_>>(),
            m.sdp()
        ));
    }
}

impl PacketSink for Trace {
    fn capture_start(&mut self, index: usize) {
        self.0.push(format!("capture {index}"));
    }
    fn message(&mut self, m: &SipMessage) {
        self.0.push(format!(
            "sip {} {:?} {} {} {:?}",
            m.frame,
            m.frames(),
            m.src,
            m.summary(),
            m.problems
        ));
        // Make the SDP summary, as the media tracker does: the sink then gets it made.
        let _ = m.sdp();
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        self.0.push(format!(
            "datagram {} {:?} {} {} {} {:?}",
            d.frame, d.frames, d.src, d.dst, d.cut, d.payload
        ));
    }
    fn read_datagram(&mut self, d: &Datagram<'_>, p: UdpPayload) {
        self.0.push(format!(
            "read {} {:?} {} {} {} {:?} {p:?}",
            d.frame, d.frames, d.src, d.dst, d.cut, d.payload
        ));
    }
    fn icmp(&mut self, e: &IcmpError) {
        self.0.push(format!("icmp {e:?}"));
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        self.0.push(format!("stream {e:?}"));
    }
}

fn captures_under(dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            captures_under(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x != "md" && x != "txt" && x != "sh")
        {
            out.push(p.to_string_lossy().to_string());
        }
    }
}

/// The captures among the fixtures of `dirs` under `testdata/`, sorted.
fn fixtures(dirs: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    for dir in dirs {
        captures_under(&common::testdata(dir), &mut paths);
    }
    paths.retain(|p| !p.ends_with(".py") && !p.ends_with(".keylog"));
    paths.sort();
    paths
}

/// Every file of the public corpus, sorted; `None` without `../shared`.
fn corpus_files() -> Option<Vec<String>> {
    let mut paths = Vec::new();
    captures_under(&common::corpus()?, &mut paths);
    paths.sort();
    assert!(paths.len() > 50, "corpus files found: {}", paths.len());
    Some(paths)
}

fn same(what: &str, a: &[String], b: &[String]) {
    assert_eq!(a.len(), b.len(), "number of {what} calls");
    for (i, (a, b)) in a.iter().zip(b).enumerate() {
        assert_eq!(a, b, "{what} call {i}");
    }
}

/// Scans `paths` on one thread and on two; returns (sink trace, packet sink trace).
fn compare(paths: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut one, mut one_packets) = (Trace::default(), Trace::default());
    let (r1, e1) = app::scan_all_serial(paths, &mut one, Some(&mut one_packets));
    let (mut two, mut two_packets) = (Trace::default(), Trace::default());
    let (r2, e2) = app::scan_all_with(paths, &mut two, &mut two_packets);
    same("sink", &one.0, &two.0);
    same("packet sink", &one_packets.0, &two_packets.0);
    assert_eq!(format!("{r1:?}"), format!("{r2:?}"));
    assert_eq!(format!("{e1:?}"), format!("{e2:?}"));
    // Without a packet sink (every message and its SDP parsed by the sink itself) the
    // messages are the same, and so are the reports.
    let mut only = Trace::default();
    let (r3, _) = app::scan_all(paths, &mut only);
    same("message-only sink", &one.0, &only.0);
    assert_eq!(format!("{r1:?}"), format!("{r3:?}"));
    // The packet sink saw every message, in its place among the packets.
    let seen = one_packets
        .0
        .iter()
        .filter(|l| l.starts_with("sip "))
        .count();
    let parsed = one.0.iter().filter(|l| l.starts_with("message ")).count();
    assert_eq!(seen, parsed, "messages seen by the packet sink");
    (one.0, one_packets.0)
}

fn kinds_seen(trace: &[String], kinds: &[&str]) {
    for kind in kinds {
        assert!(
            trace.iter().any(|l| l.starts_with(kind)),
            "no {kind} event was compared"
        );
    }
}

#[test]
fn fixtures_same_on_one_and_two_threads() {
    let paths = fixtures(&["reader", "followme", "media"]);
    assert!(paths.len() > 40, "fixtures found: {}", paths.len());
    let (trace, packets) = compare(&paths);
    assert!(trace.len() > 400, "{} sink calls", trace.len());
    assert!(packets.len() > 1000, "{} packet sink calls", packets.len());
    kinds_seen(&trace, &["capture", "clock", "message"]);
    kinds_seen(&packets, &["capture", "sip", "datagram", "stream"]);
}

#[test]
fn corpus_same_on_one_and_two_threads() {
    let Some(paths) = corpus_files() else {
        return;
    };
    let (trace, packets) = compare(&paths);
    kinds_seen(&trace, &["clock", "message"]);
    kinds_seen(&packets, &["sip", "datagram", "stream", "icmp"]);
}

/// The calls `analyze` builds — with the SDP summaries the media tracker made (and cached
/// in the messages) handed over — equal the calls built from the messages alone, and the
/// media report is the same on one thread and on two.
fn calls_and_media_agree(paths: &[String]) -> usize {
    use sipdiag::calls::CallSet;
    use sipdiag::media::{MediaSettings, MediaTracker};
    let mut alone = CallSet::default();
    app::scan_all(paths, &mut alone);
    let (mut two, mut media_two) = (
        CallSet::default(),
        MediaTracker::new(MediaSettings::default()),
    );
    app::scan_all_with(paths, &mut two, &mut media_two);
    let (mut one, mut media_one) = (
        CallSet::default(),
        MediaTracker::new(MediaSettings::default()),
    );
    app::scan_all_serial(paths, &mut one, Some(&mut media_one));
    let text = |s: &CallSet| format!("{:?}", s.calls);
    assert_eq!(text(&alone), text(&two), "calls with handed-over SDP");
    assert_eq!(text(&one), text(&two), "calls on one and two threads");
    let (m1, m2) = (media_one.finish(), media_two.finish());
    assert_eq!(format!("{:?}", m1.rtp), format!("{:?}", m2.rtp));
    assert_eq!(format!("{:?}", m1.announced), format!("{:?}", m2.announced));
    assert_eq!(format!("{:?}", m1.stun), format!("{:?}", m2.stun));
    let with_sdp = two
        .calls
        .iter()
        .flat_map(|c| &c.invites)
        .filter(|t| t.offer.is_some() && t.answer.is_some())
        .count();
    assert!(with_sdp > 0, "no offer/answer compared");
    with_sdp
}

#[test]
fn fixtures_calls_same_with_handed_over_sdp() {
    let n = calls_and_media_agree(&fixtures(&["followme", "media"]));
    assert!(n > 5, "{n} INVITEs with offer and answer");
}

#[test]
fn corpus_calls_same_with_handed_over_sdp() {
    let Some(paths) = corpus_files() else {
        return;
    };
    let n = calls_and_media_agree(&paths);
    assert!(n > 10, "{n} INVITEs with offer and answer");
}
