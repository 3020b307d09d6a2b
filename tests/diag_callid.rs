//! Messages without a Call-ID header: grouped into calls by From tag, CSeq number and
//! addresses, analysed like any call, and marked as such in `calls`, `analyze` and the
//! findings, with Wireshark filters that tshark accepts and that show the grouped frames
//! (tshark's answers are committed in `testdata/calls/*.filters.tsv`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{corpus, root, sipdiag, sipdiag_wide, stdout, testdata, tsv};
use sipdiag::app::{self, Sink};
use sipdiag::calls::{CallSet, NO_CALL_ID_PREFIX};
use sipdiag::sip::SipMessage;

const FIXTURE: &str = "calls/no-call-id-404.pcap";

struct Calls(CallSet);

impl Sink for Calls {
    fn message(&mut self, m: SipMessage) {
        self.0.add(m);
    }
}

fn call_set(path: &Path) -> CallSet {
    let mut c = Calls(CallSet::default());
    app::scan(path.to_str().unwrap(), &mut c).expect("readable capture");
    c.0
}

/// filter → frames tshark shows with it, from an oracle file (`frames` is the last column).
fn tshark_filters(path: &Path, header: &str) -> BTreeMap<String, Vec<u64>> {
    tsv(path, header)
        .into_iter()
        .map(|r| {
            let n = r.len();
            assert_ne!(
                r[n - 1],
                "INVALID",
                "tshark rejects the filter {:?}",
                r[n - 2]
            );
            let frames = r[n - 1]
                .split_whitespace()
                .map(|f| f.parse().unwrap())
                .collect();
            (r[n - 2].clone(), frames)
        })
        .collect()
}

fn analyze_json(path: &Path) -> serde_json::Value {
    let out = sipdiag(&["analyze", "--format", "json", path.to_str().unwrap()]);
    serde_json::from_slice(&out.stdout).expect("analyze JSON")
}

/// The fixture really has no Call-ID (tshark's view), and every message is in a call.
#[test]
fn fixture_messages_lack_call_id_and_none_is_dropped() {
    let rows = tsv(&testdata("calls/no-call-id-404.sip.tsv"), "frame\t");
    let kinds: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(kinds, ["INVITE", "100", "404", "ACK", "OPTIONS", "200"]);
    assert!(rows.iter().all(|r| r[6].is_empty()), "{rows:?}");

    let set = call_set(&testdata(FIXTURE));
    assert_eq!(set.without_call_id, 6);
    let grouped: Vec<(String, Vec<u64>)> = set
        .calls
        .iter()
        .map(|c| {
            (
                c.call_id.clone(),
                c.messages.iter().map(|m| m.frame).collect(),
            )
        })
        .collect();
    assert_eq!(
        grouped,
        [
            (
                "(no Call-ID) from-tag=nocid1002 cseq=1 127.0.0.50 127.0.0.60".to_string(),
                vec![1, 2, 3, 4]
            ),
            (
                "(no Call-ID) from-tag=nocidopt cseq=7 127.0.0.50 127.0.0.60".to_string(),
                vec![5, 6]
            ),
        ]
    );
    // The INVITE transaction is complete: 100, 404, ACK matched to it.
    let t = &set.calls[0].invites[0];
    assert_eq!(t.provisional, [(100, 2)]);
    assert_eq!(
        (t.final_status, t.final_frame, t.ack_frame),
        (Some(404), Some(3), Some(4))
    );
}

/// Each group's Wireshark filter is accepted by tshark and shows exactly its frames.
#[test]
fn group_filters_show_exactly_the_grouped_frames() {
    let oracle = tshark_filters(&testdata("calls/no-call-id-404.filters.tsv"), "filter\t");
    let set = call_set(&testdata(FIXTURE));
    assert_eq!(set.calls.len(), oracle.len());
    for c in &set.calls {
        let key = c.no_call_id().expect("marked as without Call-ID");
        assert_eq!(c.call_id, key.call_key());
        let filter = key.wireshark_filter();
        let frames: Vec<u64> = c.messages.iter().map(|m| m.frame).collect();
        assert_eq!(oracle.get(&filter), Some(&frames), "{filter}");
    }
}

/// INVITE → 100 → 404 → ACK without Call-ID: SIP001 with the transaction's frames, a
/// message that says the Call-ID was missing, and a filter tshark shows them with.
#[test]
fn invite_without_call_id_answered_404_is_a_finding() {
    let v = analyze_json(&testdata(FIXTURE));
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["id"], "SIP001");
    assert_eq!(f["title"], "INVITE failed: 404 Not Found");
    assert_eq!(f["frames"], serde_json::json!([1, 2, 3, 4]));
    let id = f["call_id"].as_str().unwrap();
    assert!(id.starts_with(NO_CALL_ID_PREFIX), "{id}");
    let msg = f["message"].as_str().unwrap();
    for part in [
        "(frame 1) was answered 404 Not Found (frame 3)",
        "carry no Call-ID header",
        "grouped them by From tag nocid1002, CSeq 1 and the addresses 127.0.0.50 and 127.0.0.60",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg:?}");
    }
    let oracle = tshark_filters(&testdata("calls/no-call-id-404.filters.tsv"), "filter\t");
    let filter = f["wireshark_filter"].as_str().unwrap();
    let shown = oracle
        .get(filter)
        .expect("the filter is in the tshark oracle");
    for frame in f["frames"].as_array().unwrap() {
        assert!(
            shown.contains(&frame.as_u64().unwrap()),
            "{filter}: {shown:?}"
        );
    }
    // The call list of the report carries how the messages were grouped.
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["call_id"], id);
    assert_eq!(
        calls[0]["no_call_id"],
        serde_json::json!({"from_tag": "nocid1002", "cseq": 1, "addresses": ["127.0.0.50", "127.0.0.60"]})
    );
    assert_eq!(calls[0]["final_status"], 404);

    // The terminal report says it too.
    let text = stdout(&sipdiag(&["analyze", testdata(FIXTURE).to_str().unwrap()]));
    assert!(
        text.contains("2 call(s) without a Call-ID header"),
        "{text}"
    );
    assert!(text.contains(&format!("Wireshark: {filter}")), "{text}");
}

/// `calls` lists the groups under their made-up keys and says why.
#[test]
fn calls_listing_marks_calls_without_call_id() {
    let p = testdata(FIXTURE);
    // Whole keys (--verbose) in a table wide enough not to wrap them.
    let text = stdout(&sipdiag_wide(&["calls", "--verbose", p.to_str().unwrap()]));
    assert!(
        text.contains("(no Call-ID) from-tag=nocid1002 cseq=1 127.0.0.50 127.0.0.60"),
        "{text}"
    );
    assert!(text.contains("404 (frame 3)"), "{text}");
    assert!(
        text.contains("2 call(s) without a Call-ID header (RFC 3261 §8.1.1.4 requires one)"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_slice(
        &sipdiag(&["calls", "--format", "json", p.to_str().unwrap()]).stdout,
    )
    .unwrap();
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["methods"], serde_json::json!(["OPTIONS"]));
    assert_eq!(calls[1]["no_call_id"]["from_tag"], "nocidopt");
    assert_eq!(calls[1]["no_call_id"]["cseq"], 7);

    // A capture whose calls all have a Call-ID keeps its listing: no key, no note.
    let healthy = testdata("followme/healthy-diversion-udp.pcap");
    let text = stdout(&sipdiag(&["calls", healthy.to_str().unwrap()]));
    assert!(!text.contains("Call-ID header"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(
        &sipdiag(&["calls", "--format", "json", healthy.to_str().unwrap()]).stdout,
    )
    .unwrap();
    assert!(
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("no_call_id").is_none())
    );
}

/// The public corpus: zeek's REGISTER with a junk prefix and no Call-ID (nor From, To,
/// CSeq) is now a call of its own, and its filter shows its frame in tshark.
#[test]
fn corpus_register_without_call_id_is_listed() {
    let Some(corpus) = corpus() else { return };
    let oracle = root().join("testdata/calls/corpus.filters.tsv");
    let rows = tsv(&oracle, "capture\t");
    assert!(!rows.is_empty());
    for r in rows {
        let set = call_set(&corpus.join(&r[0]));
        let grouped: Vec<_> = set
            .calls
            .iter()
            .filter(|c| c.no_call_id().is_some())
            .collect();
        assert_eq!(grouped.len(), 1, "{}", r[0]);
        let c = grouped[0];
        let filter = c.no_call_id().unwrap().wireshark_filter();
        assert_eq!(filter, r[1], "{}", r[0]);
        let frames: Vec<String> = c.messages.iter().map(|m| m.frame.to_string()).collect();
        assert_eq!(frames.join(" "), r[2], "{}", r[0]);
    }
    let p = corpus.join("zeek/sip-junk-before-request.pcap");
    let set = call_set(&p);
    assert_eq!(set.without_call_id, 1);
    assert_eq!(
        set.calls[0].call_id,
        "(no Call-ID) from-tag=- cseq=- 1.1.1.1 1.1.1.2"
    );
    assert_eq!(set.calls[0].methods[..], ["REGISTER"]);
    let text = stdout(&sipdiag(&["calls", p.to_str().unwrap()]));
    assert!(
        text.contains("1 call(s) without a Call-ID header"),
        "{text}"
    );
}

/// The INVITE's SDP offer is filed under the same made-up key as its call, so media
/// findings can name the call.
#[test]
fn sdp_without_call_id_is_announced_under_the_call_key() {
    let p = testdata(FIXTURE);
    let v: serde_json::Value = serde_json::from_slice(
        &sipdiag(&["media", "--format", "json", p.to_str().unwrap()]).stdout,
    )
    .unwrap();
    let announced = v["media"]["announced"].as_array().unwrap();
    assert_eq!(announced.len(), 1, "{announced:#?}");
    assert_eq!(
        announced[0]["call_id"],
        "(no Call-ID) from-tag=nocid1002 cseq=1 127.0.0.50 127.0.0.60"
    );
    assert_eq!(announced[0]["addr"], "127.0.0.50:40100");
    assert_eq!(announced[0]["frame"], 1);
}
