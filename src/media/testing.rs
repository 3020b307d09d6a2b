//! Builders of synthetic media for unit tests (in this module and in the SP rules).

use super::*;
use crate::net::{Datagram, Flow, StreamEvent};

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A UDP datagram at `ms` milliseconds into the capture.
pub fn dgram<'a>(frame: u64, ms: u32, src: &str, dst: &str, payload: &'a [u8]) -> Datagram<'a> {
    Datagram {
        frame,
        frames: &[],
        time: Timestamp::new(1000 + i64::from(ms / 1000), (ms % 1000) * 1_000_000),
        src: addr(src),
        dst: addr(dst),
        transport: Transport::Udp,
        payload,
        cut: false,
    }
}

pub fn rtp_pkt(seq: u16, ts: u32, ssrc: u32, pt: u8) -> Vec<u8> {
    let mut b = vec![0x80, pt];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&ssrc.to_be_bytes());
    b.extend_from_slice(&[0xff; 160]);
    b
}

pub fn stun_msg(t: u16, tid: u8, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (at, v) in attrs {
        body.extend_from_slice(&at.to_be_bytes());
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let mut m = t.to_be_bytes().to_vec();
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(&stun::MAGIC_COOKIE.to_be_bytes());
    m.extend_from_slice(&[tid; 12]);
    m.extend_from_slice(&body);
    m
}

/// An ICE check (Binding request with USERNAME `user`).
/// An ICE check `from` → `to` at `frame` and its success response at `frame + 1`.
pub fn answered_check(t: &mut MediaTracker, frame: u64, ms: u32, from: &str, to: &str, tid: u8) {
    t.datagram(&dgram(frame, ms, from, to, &check(tid, "S:C")));
    t.datagram(&dgram(frame + 1, ms + 1, to, from, &success(tid)));
}

pub fn check(tid: u8, user: &str) -> Vec<u8> {
    stun_msg(0x0001, tid, &[(stun::attr::USERNAME, user.as_bytes())])
}

/// A Binding success response.
pub fn success(tid: u8) -> Vec<u8> {
    stun_msg(0x0101, tid, &[])
}

/// Softphone signalling data `client → server` (server port 2230) and back.
pub fn signalling(t: &mut MediaTracker, client: &str, server: &str, frame: u64) {
    let (c, s) = (addr(client), addr(server));
    let time = Timestamp::new(999, 0);
    for (i, flow) in [Flow { src: c, dst: s }, Flow { src: s, dst: c }]
        .into_iter()
        .enumerate()
    {
        t.stream(&StreamEvent::Data {
            flow,
            dir: 0,
            frame: frame + i as u64,
            origin: frame + i as u64,
            time,
            data: b"{}",
        });
    }
}

/// `n` packets of 20 ms PCMU from `src` to `dst`, starting at frame `frame`.
pub fn rtp_stream(t: &mut MediaTracker, src: &str, dst: &str, ssrc: u32, frame: u64, n: u16) {
    for i in 0..n {
        let p = rtp_pkt(1000 + i, 160 * u32::from(i), ssrc, 0);
        t.datagram(&dgram(
            frame + u64::from(i),
            2000 + 20 * u32::from(i),
            src,
            dst,
            &p,
        ));
    }
}
