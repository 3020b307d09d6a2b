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
use sipdiag::calls::retire::{LINGER_SECS, Retiring};
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
    // progress, plus those lingering 32 s after their BYE or their 503.
    let small = scale_gen::Scale {
        calls: 3_000,
        duration: 600,
        hold: 20,
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

    // In progress at once: 5 a second × (2 s set-up + 20 s held + 32 s linger + the 1 s
    // a sweep may lag) at most, far below the 3,000 calls.
    let bound = 5 * (2 + 20 + LINGER_SECS as usize + 1 + 1);
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
