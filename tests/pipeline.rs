//! The two-thread scan (`app::scan_all`) delivers to its sink exactly what the
//! single-thread scan does: same calls, same order, same reports, on every fixture and on
//! the public corpus.

mod common;

use sipdiag::app::{self, Sink};
use sipdiag::net::{Datagram, IcmpError, StreamEvent};
use sipdiag::sip::SipMessage;

/// Every call a sink receives, as text.
#[derive(Default)]
struct Trace(Vec<String>);

impl Sink for Trace {
    fn capture_start(&mut self, index: usize) {
        self.0.push(format!("capture {index}"));
    }
    fn message(&mut self, m: SipMessage) {
        self.0.push(format!(
            "message {} {:?} {} {} {:?} {:?} {:?} {:?}",
            m.frame,
            m.frames(),
            m.src,
            m.summary(),
            m.call_id(),
            m.problems,
            m.body,
            m.header_lines().collect::<Vec<_>>()
        ));
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        self.0.push(format!(
            "datagram {} {:?} {} {} {} {:?}",
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

fn compare(paths: &[String]) -> Vec<String> {
    let mut one = Trace::default();
    let (r1, e1) = app::scan_all_serial(paths, &mut one);
    let mut two = Trace::default();
    let (r2, e2) = app::scan_all(paths, &mut two);
    assert_eq!(one.0.len(), two.0.len(), "number of sink calls");
    for (i, (a, b)) in one.0.iter().zip(&two.0).enumerate() {
        assert_eq!(a, b, "sink call {i}");
    }
    assert_eq!(format!("{r1:?}"), format!("{r2:?}"));
    assert_eq!(format!("{e1:?}"), format!("{e2:?}"));
    one.0
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
    let mut paths = Vec::new();
    for dir in ["reader", "followme", "media"] {
        captures_under(&common::testdata(dir), &mut paths);
    }
    paths.retain(|p| !p.ends_with(".py") && !p.ends_with(".keylog"));
    paths.sort();
    assert!(paths.len() > 40, "fixtures found: {}", paths.len());
    let trace = compare(&paths);
    assert!(trace.len() > 1000, "{} sink calls", trace.len());
    kinds_seen(&trace, &["capture", "message", "datagram", "stream"]);
}

#[test]
fn corpus_same_on_one_and_two_threads() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut paths = Vec::new();
    captures_under(&corpus, &mut paths);
    paths.sort();
    assert!(paths.len() > 50, "corpus files found: {}", paths.len());
    let trace = compare(&paths);
    kinds_seen(&trace, &["message", "datagram", "stream", "icmp"]);
}
