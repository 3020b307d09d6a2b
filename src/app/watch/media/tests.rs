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
    let p = Provenance {
        frame,
        frames: Vec::new(),
        time: Timestamp::new(1_700_000_000, 0),
        src: "10.0.0.2:5060".parse().unwrap(),
        dst: "10.0.0.1:5060".parse().unwrap(),
        transport: Transport::Udp,
    };
    parse_message(text.as_bytes(), p, true).unwrap()
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
