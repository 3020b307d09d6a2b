//! Calls retire: memory follows the calls in progress, not the calls seen.
//!
//! Captures of a busy site are written by `benches/scale/scale_gen.rs` (the generator of the
//! scale benchmark) into a temporary directory: calls start evenly, each holds for a
//! while, so the calls in progress stay the same however many calls the capture has. The
//! library's scan files them into [`Retiring`], which must hand every call out exactly as
//! the whole-capture [`CallSet`] builds it, while holding no more calls at once than are
//! in progress (plus those lingering for retransmissions).

mod common;

#[path = "../benches/scale/scale_gen.rs"]
mod scale_gen;

use sipdiag::app::{self, Sink};
use sipdiag::calls::ending::{CallEnd, Filed};
use sipdiag::calls::retire::{Retiring, SETTLED_LINGER_SECS};
use sipdiag::calls::{Call, CallSet};
use sipdiag::sip::SipMessage;

struct Streamed {
    set: Retiring,
    calls: Vec<(u64, Call)>,
}

impl Sink for Streamed {
    fn message(&mut self, m: SipMessage) {
        self.set.add(m);
        self.calls.extend(self.set.take_retired());
    }
}

struct Whole(CallSet);

impl Sink for Whole {
    fn message(&mut self, m: SipMessage) {
        self.0.add(m);
    }
}

fn capture(dir: &std::path::Path, s: scale_gen::Scale) -> (String, scale_gen::Written) {
    let path = dir.join(format!("scale-{}.pcap", s.calls));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let w = scale_gen::write(&mut f, s).unwrap();
    drop(f);
    (path.to_str().unwrap().to_string(), w)
}

/// A capture of `calls` calls starting five a second, each held 20 s (`long_first`: the
/// first answered one held for the whole capture).
fn five_a_second(dir: &std::path::Path, calls: u32, long_first: bool) -> String {
    let s = scale_gen::Scale {
        calls,
        duration: calls / 5,
        hold: 20,
        long_first,
    };
    capture(dir, s).0
}

/// The whole media report of a capture (nothing retires), the capture reports and the
/// calls.
fn whole_media(
    path: &str,
) -> (
    sipdiag::media::MediaReport,
    Vec<sipdiag::app::CaptureReport>,
    CallSet,
) {
    let mut calls = Whole(CallSet::default());
    let mut whole = sipdiag::media::MediaTracker::default();
    let (reports, errors) = app::scan_all_with(&[path.to_string()], &mut calls, &mut whole);
    assert!(errors.is_empty());
    (whole.finish(), reports, calls.0)
}

/// Streams the capture; the retired calls in their order and the most held at once.
fn stream(path: &str) -> (Vec<Call>, usize) {
    let mut s = Streamed {
        set: Retiring::default(),
        calls: Vec::new(),
    };
    app::scan(path, &mut s).expect("readable capture");
    let rest: Vec<_> = s.set.finish().collect();
    s.calls.extend(rest);
    assert_eq!(s.set.live(), 0);
    assert_eq!(
        s.set.reopened(),
        0,
        "a call was retired before its last message"
    );
    let mut orders: Vec<u64> = s.calls.iter().map(|(o, _)| *o).collect();
    orders.sort_unstable();
    assert!(
        orders.iter().enumerate().all(|(i, o)| *o == i as u64),
        "every call retires once, with its own position"
    );
    s.calls.sort_by_key(|(o, _)| *o);
    let peak = s.set.peak_live();
    (s.calls.into_iter().map(|(_, c)| c).collect(), peak)
}

#[test]
fn retired_calls_are_the_calls_and_memory_follows_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    // Five calls a second, each about 2 s of set-up and 20 s held: about 110 calls in
    // progress, plus those lingering 8 s after their BYE or their 503 is answered.
    let small = scale_gen::Scale {
        calls: 3_000,
        duration: 600,
        hold: 20,
        long_first: false,
    };
    let big = scale_gen::Scale {
        calls: 6_000,
        duration: 1_200,
        ..small
    };
    let (path, written) = capture(dir.path(), small);
    assert_eq!(written.packets, 3_000 * 7 + (3_000 - 240) * 4 - 240 * 3);
    let (streamed, peak_small) = stream(&path);

    let mut whole = Whole(CallSet::default());
    app::scan(&path, &mut whole).expect("readable capture");
    assert_eq!(whole.0.calls.len(), 3_000);
    assert_eq!(streamed.len(), whole.0.calls.len());
    for (s, w) in streamed.iter().zip(&whole.0.calls) {
        assert_eq!(
            format!("{s:?}"),
            format!("{w:?}"),
            "call {} retired differently from the whole capture's",
            w.call_id
        );
    }

    // In progress at once: 5 a second × (2 s set-up + 20 s held + the linger of a call
    // that settled — each ends with the ACK of its 503 or the 200 to its BYE — + the 1 s
    // a sweep may lag) at most, far below the 3,000 calls.
    let bound = 5 * (2 + 20 + SETTLED_LINGER_SECS as usize + 1 + 1);
    assert!(
        peak_small <= bound,
        "held {peak_small} calls at once, more than the {bound} in progress or lingering"
    );
    assert!(
        peak_small >= 5 * 20,
        "held only {peak_small}: calls retired too early"
    );

    // Twice the calls at the same rate: the same number held.
    let (path, _) = capture(dir.path(), big);
    let (streamed, peak_big) = stream(&path);
    assert_eq!(streamed.len(), 6_000);
    assert!(
        peak_big <= peak_small + 10,
        "twice the calls at the same rate held {peak_big} calls at once, against {peak_small}"
    );
}

/// A capture whose clock jumps years between the messages of one call (anonymised): the
/// call is retired while still open, the next message is counted as reopening it, and
/// `calls` reads the file again so that its rows stay whole (the report baseline pins
/// them).
#[test]
fn a_call_retired_too_early_is_counted() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let path = corpus.join("heplify/sip_ipv6_udp.pcap");
    let mut s = Streamed {
        set: Retiring::default(),
        calls: Vec::new(),
    };
    app::scan(path.to_str().unwrap(), &mut s).expect("readable capture");
    assert!(s.set.reopened() > 0);
    let out = common::sipdiag(&["calls", "--format", "json", path.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let calls = doc["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "one call, read whole: {doc}");
    assert_eq!(calls[0]["final_status"], 200);
}

/// Calls retiring as they end, named to the media tracker ([`Retiring::name_ended`]).
struct MediaStreamed {
    set: Retiring,
}

impl Sink for MediaStreamed {
    fn message(&mut self, m: SipMessage) {
        self.set.add(m);
        self.set.take_retired().for_each(drop);
    }
    fn ended(&mut self, gone: &mut dyn FnMut(&str)) {
        self.set.take_ended(gone);
    }
}

/// A media tracker retiring with the calls of [`MediaStreamed`], each row taken as it is
/// finished, and the most flows held at once.
struct MediaPackets<'a>(
    &'a mut sipdiag::media::MediaTracker,
    &'a mut sipdiag::media::Rows,
    &'a mut usize,
);

impl MediaPackets<'_> {
    /// Takes the rows finished: each at or above the bounds given before it.
    fn take(&mut self) {
        let r = self.0.take_rows();
        let rows = &mut *self.1;
        assert!(r.rtp.iter().all(|s| s.first_frame >= rows.rtp_below));
        assert!(r.announced.iter().all(|(n, _)| *n >= rows.announced_below));
        (rows.rtp_below, rows.announced_below) = (r.rtp_below, r.announced_below);
        rows.rtp.extend(r.rtp);
        rows.announced.extend(r.announced);
        *self.2 = (*self.2).max(self.0.flows_held());
    }
}

impl app::PacketSink for MediaPackets<'_> {
    fn message(&mut self, m: &SipMessage) {
        app::PacketSink::message(self.0, m);
    }
    fn datagram(&mut self, d: &sipdiag::net::Datagram<'_>) {
        self.0.datagram(d);
        self.take();
    }
    fn read_datagram(&mut self, d: &sipdiag::net::Datagram<'_>, p: sipdiag::media::UdpPayload) {
        self.0.read_datagram(d, p);
        self.take();
    }
    fn call_ended(&mut self, call_id: &str) {
        self.0.call_ended(call_id);
    }
}

/// `media` of one capture: flows, streams and announcements retire as their calls end,
/// and the rows, taken as they are finished (never below the bounds given before them),
/// are the whole report's, in its order; the flows held at once follow the calls in
/// progress, not the calls seen.
#[test]
fn media_retires_with_its_calls_and_gives_the_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for calls in [1_500, 3_000] {
        let path = five_a_second(dir.path(), calls, false);
        let paths = [path.clone()];
        let (whole, _, _) = whole_media(&path);

        let mut tracker = sipdiag::media::MediaTracker::default();
        tracker.retiring();
        let mut sink = MediaStreamed {
            set: Retiring::default(),
        };
        sink.set.name_ended();
        let (mut rows, mut peak) = (sipdiag::media::Rows::default(), 0);
        let mut packets = MediaPackets(&mut tracker, &mut rows, &mut peak);
        let (_, errors) = app::scan_all_with(&paths, &mut sink, &mut packets);
        assert!(errors.is_empty());
        let taken = rows.rtp.len() + rows.announced.len();
        let last = tracker.finish_rows();
        rows.rtp.extend(last.rtp);
        rows.announced.extend(last.announced);
        let mut rest = tracker.finish();
        // In the report's order: streams by first frame, announcements as they were made.
        rows.rtp
            .sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
        rows.announced.sort_by_key(|(n, _)| *n);
        rest.rtp = rows.rtp;
        rest.announced = rows.announced.into_iter().map(|(_, a)| a).collect();
        assert_eq!(
            serde_json::to_string(&rest).unwrap(),
            serde_json::to_string(&whole).unwrap(),
            "the rows retired differ from the whole report's"
        );
        // Two streams and two announcements a call, all but the last minute's out
        // before the end.
        let all = whole.rtp.len() + whole.announced.len();
        assert!(
            whole.rtp.len() >= 2 * calls as usize * 9 / 10,
            "{}",
            whole.rtp.len()
        );
        assert!(
            taken >= all - 4 * 5 * 60,
            "only {taken} of {all} rows out before the end"
        );
        peaks.push(peak);
    }
    // Five calls a second, two flows each, held from the first packet to a few seconds
    // after the call ends (20 s held, 32 s lingering): the same however many calls.
    assert!(peaks[0] <= 5 * 2 * (2 + 20 + 32 + 10), "{peaks:?}");
    assert!(peaks[1] <= peaks[0] + 20, "{peaks:?}");
    assert!(
        peaks[0] >= 5 * 2 * 20,
        "{peaks:?}: flows retired while in progress"
    );
}

/// Calls named as they end: each once, at the message that ends it (its BYE's answer, its
/// 503), while it still lingers; those retired without ending, as they retire.
#[test]
fn calls_are_named_once_as_they_end() {
    struct Named {
        set: Retiring,
        retired: std::collections::HashSet<String>,
        named: Vec<(String, bool)>,
    }
    impl Sink for Named {
        fn message(&mut self, m: SipMessage) {
            self.set.add(m);
            let gone: Vec<_> = self.set.take_retired().collect();
            self.retired
                .extend(gone.into_iter().map(|(_, c)| c.call_id));
        }
        fn ended(&mut self, gone: &mut dyn FnMut(&str)) {
            let mut names = Vec::new();
            self.set.take_ended(&mut |id| names.push(id.to_string()));
            for id in names {
                let retired = self.retired.contains(&id);
                self.named.push((id.clone(), retired));
                gone(&id);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = five_a_second(dir.path(), 500, false);
    let mut sink = Named {
        set: Retiring::default(),
        retired: Default::default(),
        named: Vec::new(),
    };
    sink.set.name_ended();
    let mut media = sipdiag::media::MediaTracker::default();
    let (_, errors) = app::scan_all_with(&[path], &mut sink, &mut media);
    assert!(errors.is_empty());
    let unique: std::collections::HashSet<&str> =
        sink.named.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(sink.named.len(), 500, "each call named once");
    assert_eq!(unique.len(), 500);
    assert!(
        sink.named.iter().all(|(_, retired)| !retired),
        "named as they end, before they retire"
    );
}

/// `sipdiag media --format json` on a capture whose first call lasts it: every other
/// call's rows wait for that call's stream, in memory and then on disk, and the document
/// is the one the whole media report gives.
#[test]
fn media_listing_with_a_call_lasting_the_capture_is_the_whole_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = five_a_second(dir.path(), 3_000, true);
    let (whole, reports, calls) = whole_media(&path);
    assert!(whole.rtp.len() >= 5_000, "{} streams", whole.rtp.len());
    let long = &calls.calls[scale_gen::FIRST_ANSWERED as usize];
    assert_eq!(whole.rtp[0].call_id.as_deref(), Some(long.call_id.as_str()));
    assert!(
        long.last_time.secs - long.first_time.secs > 600,
        "the call lasts the capture"
    );
    let mut expected = Vec::new();
    sipdiag::report::media::write_media_json(&reports, &whole, &mut expected).unwrap();

    // A temporary directory of its own: the spool files are gone afterwards.
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["media", "--format", "json", &path])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == expected,
        "the listing differs from the whole report ({} against {} bytes)",
        out.stdout.len(),
        expected.len()
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "spool files left"
    );
}

/// Both kinds of what `Retiring` files, side by side: every call end named, and every
/// call retired, in the order it happens, with the message count at that moment.
#[derive(Default)]
struct BothKinds {
    whole: Retiring<Call>,
    ends: Retiring<CallEnd>,
    messages: u64,
    /// (kind, after how many messages, what: "ended"/"retired"/"let go", key)
    seen: [Vec<(u64, &'static str, String)>; 2],
}

impl BothKinds {
    fn new() -> Self {
        let mut b = BothKinds::default();
        b.whole.name_ended();
        b.ends.name_ended();
        b.whole.name_let_go();
        b.ends.name_let_go();
        b
    }

    fn note<C: Filed>(set: &mut Retiring<C>, n: u64, seen: &mut Vec<(u64, &'static str, String)>) {
        set.take_ended(&mut |id| seen.push((n, "ended", id.to_string())));
        set.take_let_go(&mut |id| seen.push((n, "let go", id.to_string())));
        for (order, c) in set.take_retired() {
            seen.push((n, "retired", format!("{order} {}", c.key())));
        }
    }
}

impl Sink for BothKinds {
    fn message(&mut self, m: SipMessage) {
        self.messages += 1;
        self.whole.add(m.clone());
        self.ends.add(m);
        let n = self.messages;
        Self::note(&mut self.whole, n, &mut self.seen[0]);
        Self::note(&mut self.ends, n, &mut self.seen[1]);
    }
}

/// `media` follows only the ends of the calls ([`CallEnd`]): on every fixture and corpus
/// capture (those of the report baseline), each call ends, is let go and retires after
/// the same message as the whole call does, and the calls held at once are the same.
#[test]
fn call_ends_retire_exactly_as_whole_calls() {
    let table = common::tsv(&common::testdata("oracle/reports.tsv"), "capture\treport");
    let mut captures: Vec<String> = table.iter().map(|r| r[0].clone()).collect();
    captures.dedup();
    let corpus = common::corpus();
    let (mut checked, mut ended) = (0, 0);
    for rel in &captures {
        let path = match rel.strip_prefix("../shared/captures/") {
            Some(c) => match &corpus {
                Some(dir) => dir.join(c),
                None => continue,
            },
            None => common::root().join(rel),
        };
        let mut both = BothKinds::new();
        // Several are damaged on purpose: what could be read is compared.
        let _ = app::scan(path.to_str().unwrap(), &mut both);
        let n = both.messages + 1;
        let rest: Vec<_> = both
            .whole
            .finish()
            .map(|(o, c)| format!("{o} {}", c.call_id))
            .collect();
        both.seen[0].extend(rest.into_iter().map(|k| (n, "retired", k)));
        let rest: Vec<_> = both
            .ends
            .finish()
            .map(|(o, c)| format!("{o} {}", c.key()))
            .collect();
        both.seen[1].extend(rest.into_iter().map(|k| (n, "retired", k)));
        assert_eq!(both.seen[0], both.seen[1], "{rel}");
        assert_eq!(both.whole.peak_live(), both.ends.peak_live(), "{rel}");
        checked += 1;
        ended += both.seen[0]
            .iter()
            .filter(|(_, what, _)| *what == "ended")
            .count();
    }
    eprintln!("{checked} captures, {ended} call ends");
    assert!(checked >= 40, "{checked} captures checked");
    assert!(ended >= 100, "only {ended} call ends seen");
}

/// `analyze` of one file judges its calls as they end and spools the report's rows and
/// findings past 4 MiB to the temporary directory: on a capture whose rows go past that,
/// the report is the one `--in-memory` gives, with a temporary directory and without one
/// (the file is then read again, holding every call).
#[test]
fn analyze_spools_its_rows_and_gives_the_report_of_every_call_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = five_a_second(dir.path(), 12_000, false);
    let run = |tmp: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["analyze", "--format", "json", "--fail-on", "none"];
        args.extend_from_slice(extra);
        args.push(&path);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
            .args(&args)
            .env("TMPDIR", tmp)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let tmp = tempfile::tempdir().unwrap();
    let whole = run(tmp.path(), &["--in-memory"]);
    assert!(
        whole.len() > 8 << 20,
        "{} bytes: rows past the memory",
        whole.len()
    );
    let streamed = run(tmp.path(), &[]);
    assert!(streamed == whole, "the streamed report differs");
    // Its spool files are removed.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    let without = run(std::path::Path::new("/nonexistent/sipdiag-tmp"), &[]);
    assert!(
        without == whole,
        "the report without a temporary directory differs"
    );
}

/// A capture filtered to signalling (no UDP besides SIP): the one SP003 finding on its
/// answered calls lists the first of them in capture order and counts the rest, the same
/// streamed, held in memory and in `watch`; and the SDP announcements of ended calls are
/// released by the signalling's clock, where no datagram moves it.
#[test]
fn a_capture_filtered_to_signalling_stays_bounded() {
    // The calls the finding lists (the README says so).
    const LISTED_SILENT_CALLS: usize = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let calls = 3_000;
    let s = scale_gen::Scale {
        calls,
        duration: calls / 5,
        hold: 20,
        long_first: false,
    };
    let path = dir.path().join("signalling.pcap");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let w = scale_gen::write_with(&mut f, s, false).unwrap();
    drop(f);
    assert_eq!(w.packets, w.sip, "no RTP written");
    let path = path.to_str().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&common::sipdiag(args).stdout).unwrap()
    };
    let answered = (calls - w.rejected as u32) as usize;
    assert!(answered > LISTED_SILENT_CALLS);
    // The answered calls in capture order, from `calls`.
    let listed: Vec<String> = json(&["calls", "--format", "json", path])["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["final_status"] == 200)
        .map(|c| c["call_id"].as_str().unwrap().to_string())
        .take(LISTED_SILENT_CALLS)
        .collect();
    let run = |extra: &[&str]| {
        let mut args = vec!["analyze", "--format", "json", "--fail-on", "none"];
        args.extend_from_slice(extra);
        args.push(path);
        common::sipdiag(&args).stdout
    };
    let streamed = run(&[]);
    assert!(
        streamed == run(&["--in-memory"]),
        "streamed and held differ"
    );
    let report: serde_json::Value = serde_json::from_slice(&streamed).unwrap();
    let sp003: Vec<&serde_json::Value> = (report["findings"].as_array().unwrap().iter())
        .filter(|f| f["id"] == "SP003")
        .collect();
    let [f] = sp003[..] else {
        panic!("one SP003 finding expected: {sp003:?}")
    };
    assert_eq!(
        f["title"],
        format!("{answered} answered call(s) and no media in the capture at all")
    );
    let ids: Vec<&str> = (f["evidence"]["calls"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(ids, listed);
    assert_eq!(f["evidence"]["calls_truncated"], true);
    // The media tracker's clock moves with the signalling (every reader of SIP gives it
    // the messages through its `PacketSink::message`): the announcements of ended calls
    // are released as they go, not held to the end (two per answered call).
    struct Ended<'a>(&'a mut sipdiag::media::MediaTracker, usize);
    impl app::PacketSink for Ended<'_> {
        fn message(&mut self, m: &SipMessage) {
            app::PacketSink::message(self.0, m);
            self.0.take_rows();
            self.1 = self.1.max(self.0.ended_held());
        }
        fn call_ended(&mut self, call_id: &str) {
            self.0.call_ended(call_id);
        }
    }
    let mut tracker = sipdiag::media::MediaTracker::default();
    tracker.retiring();
    let mut sink = MediaStreamed {
        set: Retiring::default(),
    };
    sink.set.name_ended();
    let mut ended = Ended(&mut tracker, 0);
    let (_, errors) = app::scan_all_with(&[path.to_string()], &mut sink, &mut ended);
    assert!(errors.is_empty());
    // Five calls a second, released 32 s after they end, every 5 s.
    assert!(
        (100..=2 * 5 * (32 + 5 + 2)).contains(&ended.1),
        "{} ended announcements held at once",
        ended.1
    );
    // `watch` says the same at the end.
    let out = common::sipdiag(&["watch", "--format", "json", path]).stdout;
    let watched: Vec<serde_json::Value> = (String::from_utf8(out).unwrap().lines())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["capture_findings"].as_array().cloned())
        .flatten()
        .filter(|f| f["id"] == "SP003")
        .collect();
    let [seen] = &watched[..] else {
        panic!("one SP003 finding expected from watch: {watched:?}")
    };
    assert_eq!(seen["title"], f["title"]);
    assert_eq!(seen["evidence"], f["evidence"]);
    // Two announcements a call, 6,000 in all; those of calls in progress or lately ended
    // (five calls a second, each announced for about 20 + 32 + 32 s) fit in 2,000.
    let media = json(&[
        "media",
        "--format",
        "json",
        "--max-sdp-announcements",
        "2000",
        path,
    ]);
    assert_eq!(
        media["media"]["dropped"], 0,
        "{}",
        media["media"]["item_limits"]
    );
    for command in ["analyze", "watch"] {
        let out = common::sipdiag(&[
            command,
            "--format",
            "json",
            "--max-sdp-announcements",
            "2000",
            path,
        ]);
        let out = String::from_utf8(out.stdout).unwrap();
        assert!(!out.contains("CAP006"), "{command}: a limit was reached");
        assert!(out.contains("SP003"), "{command}: {out:.300}");
    }
    assert_eq!(
        media["media"]["announced"].as_array().unwrap().len(),
        2 * answered + w.rejected as usize
    );
}
