//! SIP parsing: one datagram's bytes → framing's start-line test → `RawMessage::parse`,
//! then every typed header accessor the later stages use.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use sipdiag::capture::Timestamp;
use sipdiag::net::Transport;
use sipdiag::sip::extract::sip_start;
use sipdiag::sip::message::{Provenance, RawMessage};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let Some(start) = sip_start(bytes) else {
        return;
    };
    let raw = RawMessage {
        data: bytes,
        prov: Provenance {
            frame: 1,
            frames: Vec::new(),
            time: Timestamp::new(0, 0),
            src: common::addr(1, 5060),
            dst: common::addr(2, 5060),
            transport: if flags & 1 == 0 {
                Transport::Udp
            } else {
                Transport::Tcp
            },
        },
        datagram: flags & 2 == 0,
        cut: flags & 4 != 0,
        start,
    };
    let Some(mut m) = raw.parse() else {
        return;
    };
    let _ = (m.method(), m.status(), m.reason_phrase(), m.request_uri());
    let _ = (m.kind(), m.summary(), m.call_id(), m.branch());
    let _ = (m.from(), m.to(), m.contact(), m.vias(), m.cseq().is_some());
    let _ = (m.diversion(), m.history_info(), m.p_asserted_identity());
    let _ = (m.reason(), m.warning(), m.agent(), m.header_values("via"));
    let _ = m.header_lines().count();
    if let Some(sdp) = m.take_sdp() {
        for m in &sdp.media {
            let _ = m.codecs();
        }
    }
    let _ = format!("{m:?}");
});
