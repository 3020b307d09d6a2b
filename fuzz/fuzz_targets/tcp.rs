//! TCP reassembly and SIP framing over streams: the input is read as a list of segments
//! (flags and direction, a sequence number near a few bases so that segments overlap,
//! retransmit and leave holes, a payload), pushed through `net::tcp::Reassembler`; its
//! events go through `sip::extract::Extractor::stream` and every framed message is parsed.
#![no_main]

#[path = "common.rs"]
mod common;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use sipdiag::capture::Timestamp;
use sipdiag::net::tcp::{Reassembler, Segment};
use sipdiag::net::{Flow, StreamEvent};
use sipdiag::sip::extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let flows = [
        Flow {
            src: common::addr(1, 5060),
            dst: common::addr(2, 5060),
        },
        Flow {
            src: common::addr(2, 5060),
            dst: common::addr(1, 5060),
        },
        Flow {
            src: common::addr(3, 40000),
            dst: common::addr(2, 5060),
        },
    ];
    // Bases near 0 and near the wrap-around of the 32-bit sequence space.
    let bases = [0u32, 1000, u32::MAX - 300, 0x8000_0000];
    let mut tcp = Reassembler::default();
    let mut ex = Extractor::default();
    let mut frame = 0u64;
    let mut input = Bytes(data);
    let deliver = |e: StreamEvent<'_>, ex: &mut Extractor, frame: u64| {
        if let StreamEvent::Data {
            frame: f, origin, ..
        } = e
        {
            assert!(
                origin <= f && f <= frame,
                "data of frame {origin}/{f} after {frame}"
            );
        }
        ex.stream(&e, &mut |m| {
            let _ = m.parse();
        });
    };
    while let (Some(flags), Some(off), Some(len)) = (input.u8(), input.u16(), input.u8()) {
        frame += 1;
        let payload = input.take(usize::from(len));
        let seg = Segment {
            flow: flows[usize::from(flags >> 3) % flows.len()],
            seq: bases[usize::from(flags >> 5) % bases.len()].wrapping_add(u32::from(off)),
            syn: flags & 1 != 0,
            fin: flags & 2 != 0,
            rst: flags & 4 != 0,
            payload,
            frame,
            time: Timestamp::new(frame as i64, 0),
        };
        tcp.push(seg, &mut |e| deliver(e, &mut ex, frame));
    }
    tcp.finish(frame + 1, &mut |e| deliver(e, &mut ex, frame + 1));
    ex.finish();
    let _ = ex.anomalies();
});
