//! Writes a busy site's hour as a classic pcap: short calls from many phones to four
//! gateways, most answered (INVITE / 100 / 180 / 200 with SDP / ACK, four RTP packets,
//! BYE / 200), one in twelve and a half rejected (INVITE / 100 / 503 / ACK). Calls start
//! evenly over the capture and last `hold` seconds, so the calls in progress at any time
//! are `calls × hold / duration` whatever the number of calls: what memory should follow.
//!
//! Shared by `benches/scale/main.rs` (100,000 and 1,000,000 calls over an hour) and
//! `tests/retire.rs` (a few thousand calls, read back through the library). Std only.

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// What to write.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub calls: u32,
    /// Seconds over which the calls start.
    pub duration: u32,
    /// Seconds from a call's 200 OK to its BYE.
    pub hold: u32,
    /// The first answered call (the third: the first two are rejected) is held for the
    /// whole capture (a minute past the last call's start): every later call ends while
    /// it is in progress.
    pub long_first: bool,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub packets: u64,
    pub sip: u64,
    pub rejected: u64,
}

/// The gateways the calls go to.
pub const GATEWAYS: [[u8; 4]; 4] = [[10, 9, 0, 1], [10, 9, 0, 2], [10, 9, 0, 3], [10, 9, 0, 4]];

/// The first call not rejected.
pub const FIRST_ANSWERED: u32 = 2;

/// Whether call `n` is rejected with 503 (8 %: two in 25).
pub fn rejected(n: u32) -> bool {
    n % 25 < 2
}

const START_US: u64 = 1_700_000_000 * 1_000_000;

fn phone(n: u32) -> [u8; 4] {
    // 10.1.0.2 .. : 250 hosts per /24, 65,000 phones before addresses repeat.
    let k = n % 65_000;
    [
        10,
        1 + (k / 62_500) as u8,
        ((k / 250) % 250) as u8,
        (k % 250 + 2) as u8,
    ]
}

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// Steps of a call, in the order they happen.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
    Invite,
    Trying,
    Ringing,
    Answer,
    Ack,
    Rtp(u8),
    Bye,
    ByeOk,
    Done,
}

/// The capture, in time order, into `out`.
pub fn write(out: &mut dyn Write, s: Scale) -> io::Result<Written> {
    write_with(out, s, true)
}

/// [`write`], without the RTP packets when `rtp` is false: the capture as filtered to
/// signalling (`port 5060`).
pub fn write_with(out: &mut dyn Write, s: Scale, rtp: bool) -> io::Result<Written> {
    write_calls(out, s, rtp, false)
}

/// [`write`] with every call rejected (INVITE / 100 / 503 / ACK): a trunk that fails
/// every call, each one a failed verdict and a finding.
pub fn write_rejected(out: &mut dyn Write, s: Scale) -> io::Result<Written> {
    write_calls(out, s, false, true)
}

fn write_calls(
    out: &mut dyn Write,
    s: Scale,
    rtp: bool,
    all_rejected: bool,
) -> io::Result<Written> {
    let mut w = Written::default();
    pcap_header(out)?;
    let gap = u64::from(s.duration) * 1_000_000 / u64::from(s.calls.max(1));
    let mut queue: BinaryHeap<Reverse<(u64, u32, Step)>> = BinaryHeap::new();
    let mut next_call = 0u32;
    let mut frame = Vec::with_capacity(2048);
    let mut ip_id: u16 = 0;
    loop {
        // Start calls up to the next queued event's time.
        let next_start = START_US + u64::from(next_call) * gap;
        let take_start = next_call < s.calls
            && queue
                .peek()
                .is_none_or(|Reverse((t, _, _))| *t >= next_start);
        let (t, n, step) = if take_start {
            next_call += 1;
            (next_start, next_call - 1, Step::Invite)
        } else if let Some(Reverse(e)) = queue.pop() {
            e
        } else {
            break;
        };
        let hold = if s.long_first && n == FIRST_ANSWERED {
            s.duration + 60
        } else {
            s.hold
        };
        let rejected = all_rejected || rejected(n);
        let (text, caller_sends, then) = message(n, step, hold, rejected);
        if !rtp && matches!(step, Step::Rtp(_)) {
            if let Some((after_us, next)) = then {
                queue.push(Reverse((t + after_us, n, next)));
            }
            continue;
        }
        let (a, b) = (phone(n), GATEWAYS[(n % 4) as usize]);
        let (src, dst, sport, dport) = match (step, caller_sends) {
            (Step::Rtp(k), _) => {
                let (pa, pb) = rtp_ports(n);
                if k % 2 == 0 {
                    (a, b, pa, pb)
                } else {
                    (b, a, pb, pa)
                }
            }
            (_, true) => (a, b, 5060, 5060),
            (_, false) => (b, a, 5060, 5060),
        };
        udp_frame(&mut frame, src, dst, sport, dport, ip_id, &text);
        ip_id = ip_id.wrapping_add(1);
        pcap_record(out, t, &frame)?;
        w.packets += 1;
        if !matches!(step, Step::Rtp(_)) {
            w.sip += 1;
        }
        if step == Step::Invite && rejected {
            w.rejected += 1;
        }
        if let Some((after_us, next)) = then {
            queue.push(Reverse((t + after_us, n, next)));
        }
    }
    out.flush()?;
    Ok(w)
}

/// A day of registrations, as a classic pcap: `phones` phones each refreshing its
/// registration every `refresh` seconds for `duration` seconds under one Call-ID, each
/// refresh challenged (REGISTER / 401 / REGISTER with credentials / 200), the phones'
/// refreshes spread evenly over each period. No call: what a watch on a PBX's interface
/// sees between calls for days, and what memory must not follow.
pub fn write_registrations(
    out: &mut dyn Write,
    phones: u32,
    duration: u32,
    refresh: u32,
) -> io::Result<Written> {
    let mut w = Written::default();
    pcap_header(out)?;
    let period = u64::from(refresh) * 1_000_000;
    let spread = period / u64::from(phones.max(1));
    let mut frame = Vec::with_capacity(2048);
    let mut ip_id: u16 = 0;
    for k in 0..u64::from(duration / refresh.max(1)) {
        for n in 0..phones {
            let t = START_US + k * period + u64::from(n) * spread;
            let (a, g) = (phone(n), GATEWAYS[0]);
            let (pa, ga) = (ip(a), ip(g));
            let user = 2000 + n % 65_000;
            let call_id = format!("reg-{:08x}-{n}@{pa}", n.wrapping_mul(2_654_435_761));
            for step in 0..4u32 {
                let cseq = 2 * k + 1 + u64::from(step / 2);
                let via = format!("SIP/2.0/UDP {pa}:5060;branch=z9hG4bKr{n:x}-{cseq}");
                let head = format!(
                    "Via: {via}\r\nFrom: <sip:{user}@{ga}>;tag=r{n:x}\r\nTo: <sip:{user}@{ga}>\r\n\
                     Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                );
                let text = match step {
                    0 | 2 => {
                        let auth = if step == 2 {
                            format!(
                                "Authorization: Digest username=\"{user}\", realm=\"ipoffice\", \
                                 nonce=\"{k:x}{n:x}\", uri=\"sip:{ga}\", \
                                 response=\"0123456789abcdef0123456789abcdef\"\r\n"
                            )
                        } else {
                            String::new()
                        };
                        format!(
                            "REGISTER sip:{ga} SIP/2.0\r\n{head}Max-Forwards: 70\r\n\
                             Contact: <sip:{user}@{pa}:5060>\r\nExpires: {}\r\n{auth}\
                             User-Agent: ScalePhone/1.0\r\nContent-Length: 0\r\n\r\n",
                            2 * refresh
                        )
                    }
                    1 => format!(
                        "SIP/2.0 401 Unauthorized\r\n{head}WWW-Authenticate: Digest \
                         realm=\"ipoffice\", nonce=\"{k:x}{n:x}\"\r\n\
                         Server: ScaleGateway/1.0\r\nContent-Length: 0\r\n\r\n"
                    ),
                    _ => format!(
                        "SIP/2.0 200 OK\r\n{head}Contact: <sip:{user}@{pa}:5060>;expires={}\r\n\
                         Server: ScaleGateway/1.0\r\nContent-Length: 0\r\n\r\n",
                        2 * refresh
                    ),
                };
                let (src, dst) = if step % 2 == 0 { (a, g) } else { (g, a) };
                udp_frame(&mut frame, src, dst, 5060, 5060, ip_id, text.as_bytes());
                ip_id = ip_id.wrapping_add(1);
                let t = t + u64::from(step) * 1_000;
                pcap_record(out, t, &frame)?;
                w.packets += 1;
                w.sip += 1;
            }
        }
    }
    out.flush()?;
    Ok(w)
}

/// The classic pcap file header: microsecond timestamps, link type Ethernet.
fn pcap_header(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&[0; 8])?;
    out.write_all(&65535u32.to_le_bytes())?;
    out.write_all(&1u32.to_le_bytes())
}

/// One pcap record: `frame` captured whole at `us` microseconds.
fn pcap_record(out: &mut dyn Write, us: u64, frame: &[u8]) -> io::Result<()> {
    out.write_all(&((us / 1_000_000) as u32).to_le_bytes())?;
    out.write_all(&((us % 1_000_000) as u32).to_le_bytes())?;
    out.write_all(&(frame.len() as u32).to_le_bytes())?;
    out.write_all(&(frame.len() as u32).to_le_bytes())?;
    out.write_all(frame)
}

fn rtp_ports(n: u32) -> (u16, u16) {
    (16384 + 2 * (n % 8000) as u16, 40000 + 2 * (n % 8000) as u16)
}

/// The Call-ID of call `n`.
pub fn call_id(n: u32) -> String {
    let a = ip(phone(n));
    format!("{:08x}-{n}@{a}", n.wrapping_mul(2_654_435_761))
}

/// The bytes of `step` of call `n` (`rejected` with 503 or answered), whether the caller
/// sends them, and the next step.
fn message(n: u32, step: Step, hold: u32, rejected: bool) -> (Vec<u8>, bool, Option<(u64, Step)>) {
    let (a, g) = (ip(phone(n)), ip(GATEWAYS[(n % 4) as usize]));
    let call_id = call_id(n);
    let from = format!("<sip:{}@{a}>;tag=f{n:x}", 2000 + n % 65_000);
    let to = format!("<sip:+4930555{:05}@{g}>", n % 100_000);
    let to_tag = format!("{to};tag=g{n:x}");
    let via = format!("SIP/2.0/UDP {a}:5060;branch=z9hG4bK{n:x}i");
    let (pa, pb) = rtp_ports(n);
    let sdp = |host: &str, port: u16| {
        format!(
            "v=0\r\no=- {n} 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        )
    };
    let request = |method: &str, branch: &str, cseq: u32, to: &str, body: &str| {
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} sip:+4930555{:05}@{g}:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {a}:5060;branch=z9hG4bK{n:x}{branch}\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:{}@{a}:5060>\r\nUser-Agent: ScalePhone/1.0\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            n % 100_000,
            2000 + n % 65_000,
            body.len()
        )
    };
    let response = |status: &str, to: &str, via: &str, cseq: &str, body: &str| {
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "SIP/2.0 {status}\r\nVia: {via};received={a}\r\nFrom: {from}\r\nTo: {to}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq}\r\nServer: ScaleGateway/1.0\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let hold_us = u64::from(hold) * 1_000_000;
    match step {
        Step::Invite => (
            request("INVITE", "i", 1, &to, &sdp(&a, pa)).into_bytes(),
            true,
            Some((800, Step::Trying)),
        ),
        Step::Trying => (
            response("100 Trying", &to, &via, "1 INVITE", "").into_bytes(),
            false,
            Some((50_000, Step::Ringing)),
        ),
        Step::Ringing if rejected => (
            response("503 Service Unavailable", &to_tag, &via, "1 INVITE", "").into_bytes(),
            false,
            Some((700, Step::Ack)),
        ),
        Step::Ringing => (
            response("180 Ringing", &to_tag, &via, "1 INVITE", "").into_bytes(),
            false,
            Some((2_000_000, Step::Answer)),
        ),
        Step::Answer => (
            response("200 OK", &to_tag, &via, "1 INVITE", &sdp(&g, pb)).into_bytes(),
            false,
            Some((900, Step::Ack)),
        ),
        Step::Ack if rejected => (
            // The ACK of a failure is part of the INVITE transaction (same branch).
            request("ACK", "i", 1, &to_tag, "").into_bytes(),
            true,
            None,
        ),
        Step::Ack => (
            request("ACK", "a", 1, &to_tag, "").into_bytes(),
            true,
            Some((20_000, Step::Rtp(0))),
        ),
        Step::Rtp(k) => {
            let mut p = vec![0u8; 12 + 160];
            p[0] = 0x80;
            p[1] = if k < 2 { 0x88 } else { 8 };
            let dir = u32::from(k % 2);
            let seq = (n.wrapping_mul(7) as u16).wrapping_add(u16::from(k / 2));
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            p[4..8].copy_from_slice(&(u32::from(k / 2) * 160).to_be_bytes());
            p[8..12].copy_from_slice(&(n.wrapping_mul(2) + dir).to_be_bytes());
            p[12..].fill(0xd5);
            let next = if k < 3 {
                Some((10_000, Step::Rtp(k + 1)))
            } else {
                Some((hold_us, Step::Bye))
            };
            (p, k % 2 == 0, next)
        }
        Step::Bye => (
            request("BYE", "b", 2, &to_tag, "").into_bytes(),
            true,
            Some((1_000, Step::ByeOk)),
        ),
        Step::ByeOk => (
            response(
                "200 OK",
                &to_tag,
                &format!("SIP/2.0/UDP {a}:5060;branch=z9hG4bK{n:x}b"),
                "2 BYE",
                "",
            )
            .into_bytes(),
            false,
            None,
        ),
        Step::Done => (Vec::new(), true, None),
    }
}

fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut c = data.chunks_exact(2);
    for w in &mut c {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = c.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 + UDP around `payload`, checksums filled in.
fn udp_frame(
    buf: &mut Vec<u8>,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    id: u16,
    payload: &[u8],
) {
    buf.clear();
    buf.extend_from_slice(&[0x02, 0, dst[0], dst[1], dst[2], dst[3]]);
    buf.extend_from_slice(&[0x02, 0, src[0], src[1], src[2], src[3]]);
    buf.extend_from_slice(&0x0800u16.to_be_bytes());
    let udp_len = (8 + payload.len()) as u16;
    let ip_at = buf.len();
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&(20 + udp_len).to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&dst);
    let ip_sum = fold(sum16(0, &buf[ip_at..ip_at + 20]));
    buf[ip_at + 10..ip_at + 12].copy_from_slice(&ip_sum.to_be_bytes());
    let udp_at = buf.len();
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&udp_len.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
    let mut sum = sum16(sum16(0, &src), &dst) + 17 + u32::from(udp_len);
    sum = sum16(sum, &buf[udp_at..]);
    let udp_sum = match fold(sum) {
        0 => 0xffff,
        s => s,
    };
    buf[udp_at + 6..udp_at + 8].copy_from_slice(&udp_sum.to_be_bytes());
}
