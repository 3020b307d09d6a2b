//! SCTP reassembly: the input is read as a list of SCTP packets, each of one to four DATA
//! chunks (B and E flags, one of four streams, a TSN near a few bases so that chunks
//! repeat, skip and wrap, a payload), on one of three associations, wrapped in raw-IPv4
//! frames and decoded by `net::Decoder` as a capture's frames would be; rebuilt user
//! messages that hold SIP are framed and parsed. The caps are small (four messages under
//! reassembly, 2 KiB a message) so that evictions and oversized messages happen.
#![no_main]

#[path = "common.rs"]
mod common;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use sipdiag::capture::{Frame, Timestamp};
use sipdiag::limits::Limits;
use sipdiag::net::{Decoder, Packet};
use sipdiag::sip::extract::{Extractor, sip_start};

/// LINKTYPE_RAW: the frame starts with the IP header.
const RAW: u32 = 101;

fuzz_target!(|data: &[u8]| {
    sipdiag::limits::set(Limits {
        fragments: 4,
        sip_message: 2048,
        ..Limits::DEFAULT
    });
    let mut decoder = Decoder::default();
    let mut ex = Extractor::default();
    let mut input = Bytes(data);
    let mut number = 0u64;
    let on_packet = |p: Packet<'_>, ex: &mut Extractor, number: u64| {
        if let Packet::Datagram(d) = p {
            assert!(
                d.frames.iter().all(|f| *f <= d.frame) && d.frame == number,
                "a message completed by frame {} cites {:?}",
                d.frame,
                d.frames
            );
            if let Some(start) = sip_start(d.payload) {
                ex.datagram(&d, start, &mut |m| {
                    let _ = m.parse();
                });
            }
        }
    };
    // TSN bases: near 0 and near the wrap of the 32-bit space.
    let bases = [0u32, 1000, u32::MAX - 2, 0x8000_0000];
    while let Some(head) = input.u8() {
        number += 1;
        let association = (head & 3) % 3;
        let mut sctp = Vec::new();
        sctp.extend_from_slice(&(40000 + u16::from(association)).to_be_bytes());
        sctp.extend_from_slice(&5060u16.to_be_bytes());
        sctp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]); // verification tag, checksum
        for _ in 0..=(head >> 2 & 3) {
            let (Some(flags), Some(tsn), Some(len)) = (input.u8(), input.u8(), input.u8()) else {
                break;
            };
            let payload = input.take(usize::from(len));
            let tsn = bases[usize::from(flags >> 6)].wrapping_add(u32::from(tsn));
            let stream = u16::from(flags >> 2 & 3);
            let chunk_len = (16 + payload.len()) as u16;
            sctp.extend_from_slice(&[0, flags & 3]);
            sctp.extend_from_slice(&chunk_len.to_be_bytes());
            sctp.extend_from_slice(&tsn.to_be_bytes());
            sctp.extend_from_slice(&stream.to_be_bytes());
            sctp.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // stream sequence, payload protocol
            sctp.extend_from_slice(payload);
            sctp.resize(sctp.len().next_multiple_of(4), 0);
        }
        let bytes = ipv4(association, &sctp);
        let frame = Frame {
            number,
            time: Timestamp::new(number as i64, 0),
            linktype: RAW,
            data: &bytes,
            orig_len: bytes.len() as u32,
        };
        decoder.decode(&frame, &mut |p| on_packet(p, &mut ex, number));
    }
    decoder.finish(&mut |p| on_packet(p, &mut ex, number));
    let _ = decoder.anomalies();
    ex.finish();
});

/// An IPv4 packet carrying SCTP (protocol 132) from 10.0.0.(1 + `from`) to 10.0.0.9.
fn ipv4(from: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&[0, 1, 0x40, 0, 64, 132, 0, 0, 10, 0, 0, 1 + from, 10, 0, 0, 9]);
    v.extend_from_slice(payload);
    v
}
