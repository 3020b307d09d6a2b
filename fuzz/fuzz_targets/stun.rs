//! STUN: a datagram → `parse` / `parse_classic` (and the descriptions the reports print);
//! a TCP stream → `stream_start` and `next_in_stream` (RFC 4571 framing or bare), walked
//! to its end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipdiag::media::stun::{self, StreamItem};

fuzz_target!(|data: &[u8]| {
    for m in [stun::parse(data), stun::parse_classic(data)]
        .into_iter()
        .flatten()
    {
        let _ = (m.describe(), m.transaction_hex(), m.type_hex());
        let _ = format!("{m:?}");
    }
    let _ = stun::header_len(data);
    if let Some(rfc4571) = stun::stream_start(data) {
        walk(data, rfc4571);
    }
    walk(data, true);
    walk(data, false);
});

fn walk(mut buf: &[u8], rfc4571: bool) {
    loop {
        let step = match stun::next_in_stream(buf, rfc4571) {
            StreamItem::Stun { skip, len } => {
                let _ = stun::parse(&buf[skip..skip + len]);
                skip + len
            }
            StreamItem::Other(n) => n,
            StreamItem::Incomplete | StreamItem::Invalid => return,
        };
        // A step that consumes nothing would hang the media tracker's loop.
        assert!(
            step > 0 && step <= buf.len(),
            "next_in_stream: step {step} of {}",
            buf.len()
        );
        buf = &buf[step..];
    }
}
