use super::*;
use crate::capture::Timestamp;
use crate::net::Transport;
use crate::sip::message::{Provenance, parse_message};

/// A 183 of call `one` in frame `frame` whose SDP announces `10.9.0.{n}:4000`.
fn progress(frame: u64, n: u8) -> SipMessage {
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 10.9.0.{n}\r\ns=-\r\nc=IN IP4 10.9.0.{n}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    );
    let text = format!(
        "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
         From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>;tag=b{n}\r\nCall-ID: one\r\n\
         CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip(frame, &text)
}

/// A call naming the same 40 addresses twice names each once, whether it is looked up in
/// the call's list (its first 16) or in the set of all named addresses (past them).
#[test]
fn a_call_names_each_address_once_past_its_first_16() {
    let mut w = WatchMedia::new(MediaSettings::default());
    for round in 0..2 {
        for n in 1..=40u8 {
            w.message(&progress(round * 40 + u64::from(n), n));
        }
    }
    assert_eq!(w.named_by["one"].addrs.len(), 40);
    assert_eq!(w.named.len(), 40);
    let mut addrs = w.named_by["one"].addrs.clone();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), 40);
}

/// Message `text` (a request from 10.0.0.1, a response from 10.0.0.2) in frame `frame`,
/// one frame every 10 ms.
fn sip(frame: u64, text: &str) -> SipMessage {
    let (src, dst) = if text.starts_with("SIP/2.0") {
        ("10.0.0.2:5060", "10.0.0.1:5060")
    } else {
        ("10.0.0.1:5060", "10.0.0.2:5060")
    };
    let p = Provenance {
        frame,
        frames: Vec::new(),
        time: Timestamp::new(
            1_700_000_000 + frame as i64 / 100,
            (frame % 100) as u32 * 10_000_000,
        ),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        transport: Transport::Udp,
    };
    parse_message(text.as_bytes(), p, true).unwrap()
}

/// An INVITE of call `id` or its answer (`status`), with SDP at `ip`:1024: every call of
/// [`a_unit_reads_the_rows_of_a_shared_address_made_while_it_lasted`] announces the same
/// two addresses, as a PBX giving every call one media port.
fn shared(id: &str, status: Option<u16>, cseq: &str) -> String {
    let ip = if status.is_some() {
        "10.0.0.2"
    } else {
        "10.0.0.1"
    };
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio 1024 RTP/AVP 0\r\n"
    );
    let start = match status {
        Some(s) => format!("SIP/2.0 {s} OK"),
        None => "INVITE sip:200@10.0.0.2 SIP/2.0".to_string(),
    };
    let body = if cseq.ends_with("INVITE") {
        sdp
    } else {
        String::new()
    };
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{id}{}\r\n\
         From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>;tag=b\r\nCall-ID: {id}\r\n\
         CSeq: {cseq}\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        cseq.len(),
        body.len()
    )
}

/// Calls that never end (no ACK, no BYE), each announcing the same two addresses: the
/// rows of all of them stay in the store while any of them waits. A unit reads those the
/// rules read of it — its own, and another call's announcement made while one of its
/// calls lasted — not the rows of every call that ever shared the address (which made
/// judging such a capture take time in the square of its calls).
#[test]
fn a_unit_reads_the_rows_of_a_shared_address_made_while_it_lasted() {
    shared_address_rows(false);
}

/// A unit's own rows are found by a hash of their Call-ID, then kept if they are its
/// calls': with every Call-ID filed under one key, as if all the hashes collided, a unit
/// still reads its own rows and no other call's.
#[test]
fn calls_whose_ids_share_a_hash_read_their_own_rows() {
    shared_address_rows(true);
}

/// [`a_unit_reads_the_rows_of_a_shared_address_made_while_it_lasted`], every Call-ID
/// filed under one key when `one_key`.
fn shared_address_rows(one_key: bool) {
    const CALLS: u64 = 200;
    super::ONE_CALL_KEY.set(one_key);
    let mut w = WatchMedia::new(MediaSettings::default());
    super::ONE_CALL_KEY.set(false);
    let mut set = crate::calls::CallSet::default();
    let mut add = |w: &mut WatchMedia, m: SipMessage| {
        w.message(&m);
        set.add(m);
    };
    for i in 0..CALLS {
        let id = format!("c{i}");
        add(&mut w, sip(2 * i + 1, &shared(&id, None, "1 INVITE")));
        add(&mut w, sip(2 * i + 2, &shared(&id, Some(200), "1 INVITE")));
    }
    // The first call lasts through all the others (an INFO at the end).
    add(&mut w, sip(2 * CALLS + 1, &shared("c0", None, "2 INFO")));
    let calls = std::mem::take(&mut set.calls);
    let all: Vec<&Call> = calls.iter().collect();
    w.end_calls(&all, 1_700_000_100);
    let announced = |r: &MediaReport| {
        let mut ids: Vec<String> = r.announced.iter().map(|a| a.call_id.to_string()).collect();
        ids.dedup();
        ids
    };
    // A call of its own moment: its two announcements, of the 400 at those addresses.
    let last = calls.iter().find(|c| c.call_id == "c199").unwrap();
    let report = w.unit_report(std::slice::from_ref(last));
    assert_eq!(announced(&report), ["c199"]);
    assert_eq!(report.announced.len(), 2);
    // The call that lasted reads every announcement made meanwhile (SP003 counts the
    // datagrams under each).
    let first = calls.iter().find(|c| c.call_id == "c0").unwrap();
    let report = w.unit_report(std::slice::from_ref(first));
    assert_eq!(report.announced.len(), 2 * CALLS as usize);
}

/// Rows live in the store (filed, not let go).
fn rows_held(w: &WatchMedia) -> usize {
    w.rows.iter().filter(|r| r.is_some()).count()
}

/// A capture whose clock stands still: each call announces one of four addresses, all
/// stamped alike, and is judged once eight later calls have named theirs (every address
/// is always named by a call waiting). A row is kept while a call that named its
/// address before it ended, in the capture's order, waits, and lingers [`LINGER_ROWS`]
/// rows when the clock does not move: the store holds a bounded number of rows, not one
/// per call (before, a call waiting that named the address in the same capture second
/// kept every earlier row there, and the linger never ended).
#[test]
fn a_store_whose_clock_stands_still_holds_a_bounded_number_of_rows() {
    const CALLS: u64 = 24_000;
    let mut w = WatchMedia::new(MediaSettings::default());
    let frozen = |frame: u64, text: &str| {
        let mut m = sip(frame, text);
        m.time = Timestamp::new(1_700_000_000, 0);
        m
    };
    let mut waiting: VecDeque<Call> = VecDeque::new();
    let mut most = 0;
    for i in 0..CALLS {
        let id = format!("c{i}");
        let mut set = crate::calls::CallSet::default();
        let port = 1024 + 2 * (i % 4);
        for (n, status) in [(1, None), (2, Some(200))] {
            let text = shared(&id, status, "1 INVITE").replace(":1024", &format!(":{port}"));
            let text = text.replace("audio 1024", &format!("audio {port}"));
            let m = frozen(2 * i + n, &text);
            w.message(&m);
            set.add(m);
        }
        waiting.extend(set.calls.pop());
        if waiting.len() > 8
            && let Some(call) = waiting.pop_front()
        {
            w.end_calls(&[&call], 1_700_000_000);
            w.unit_report(std::slice::from_ref(&call));
            if w.wants_sweep() {
                w.sweep(1_700_000_000);
            }
        }
        most = most.max(rows_held(&w));
    }
    assert!(
        most <= (LINGER_ROWS as usize) + 2 * SWEEP_ROWS,
        "{most} rows held at most of {} filed",
        2 * CALLS
    );
}
