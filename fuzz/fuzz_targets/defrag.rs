//! IP defragmentation: the input is read as a list of IPv4 or IPv6 fragments (one of a
//! few datagram ids and protocols, any offset, more-fragments flag and payload), each
//! wrapped in a raw-IP frame and decoded by `net::Decoder` as a capture's frame would be;
//! rebuilt UDP datagrams that hold SIP are framed and parsed.
#![no_main]

#[path = "common.rs"]
mod common;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use sipdiag::capture::{Frame, Timestamp};
use sipdiag::net::{Decoder, Packet};
use sipdiag::sip::extract::{Extractor, sip_start};

/// LINKTYPE_RAW: the frame starts with the IP header.
const RAW: u32 = 101;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::default();
    let mut ex = Extractor::default();
    let mut input = Bytes(data);
    let mut number = 0u64;
    let on_packet = |p: Packet<'_>, ex: &mut Extractor| {
        if let Packet::Datagram(d) = p {
            assert!(
                d.frames.iter().all(|f| *f <= d.frame),
                "frames after the completing one"
            );
            if let Some(start) = sip_start(d.payload) {
                ex.datagram(&d, start, &mut |m| {
                    let _ = m.parse();
                });
            }
        }
    };
    while let (Some(flags), Some(off), Some(len)) = (input.u8(), input.u16(), input.u8()) {
        number += 1;
        let payload = input.take(usize::from(len));
        let v6 = flags & 1 != 0;
        let more = flags & 2 != 0;
        let id = u32::from(flags >> 2 & 3);
        let proto = [17u8, 17, 6, 1][usize::from(flags >> 4 & 3)];
        // Time moves on by 0..=63 s per fragment, so that the 30 s timeout is reached.
        let time = Timestamp::new(number as i64 * i64::from(flags >> 6) * 21, 0);
        let bytes = if v6 {
            ipv6_fragment(id, proto, off, more, payload)
        } else {
            ipv4_fragment(id, proto, off, more, payload)
        };
        let frame = Frame {
            number,
            time,
            linktype: RAW,
            data: &bytes,
            orig_len: bytes.len() as u32,
        };
        decoder.decode(&frame, &mut |p| on_packet(p, &mut ex));
    }
    decoder.finish(&mut |p| on_packet(p, &mut ex));
    let _ = decoder.anomalies();
    ex.finish();
});

/// An IPv4 fragment: `off` holds the offset in 8-byte units (low 13 bits).
fn ipv4_fragment(id: u32, proto: u8, off: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let frag = (off & 0x1fff) | if more { 0x2000 } else { 0 };
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&(id as u16 + 0x100).to_be_bytes());
    v.extend_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v.extend_from_slice(payload);
    v
}

/// An IPv6 packet with a Fragment extension header (RFC 8200 §4.5).
fn ipv6_fragment(id: u32, proto: u8, off: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[44, 64]);
    v.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    let frag = (off << 3) | u16::from(more);
    v.extend_from_slice(&[proto, 0]);
    v.extend_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(&(id + 0x1000).to_be_bytes());
    v.extend_from_slice(payload);
    v
}
