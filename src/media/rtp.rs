//! RTP and RTCP headers (RFC 3550), sequence accounting (§A.1, §A.3) and interarrival
//! jitter (§A.8).
//!
//! Demultiplexing (RFC 7983) happens in the caller: a first byte of 128-191 is RTP or
//! RTCP; with rtcp-mux (RFC 5761) RTCP is told apart by its packet type 192-223 in the
//! second byte.

use crate::capture::Timestamp;

/// The fixed RTP header fields sipdiag uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// Parses an RTP header: version 2, room for the CSRC list and header extension, and a
/// padding count that fits. `None` for anything else.
pub fn parse(b: &[u8]) -> Option<Header> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(b[0] & 0x0F);
    let mut hdr = 12 + 4 * cc;
    if b[0] & 0x10 != 0 {
        let ext = b.get(hdr + 2..hdr + 4)?;
        hdr += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    if hdr > b.len() {
        return None;
    }
    if b[0] & 0x20 != 0 {
        let pad = usize::from(*b.last()?);
        if pad == 0 || hdr + pad > b.len() {
            return None;
        }
    }
    Some(Header {
        marker: b[1] & 0x80 != 0,
        payload_type: b[1] & 0x7F,
        seq: u16::from_be_bytes([b[2], b[3]]),
        timestamp: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
    })
}

/// Whether the second byte marks RTCP in a multiplexed flow (packet types 192-223).
pub fn is_rtcp_type(second_byte: u8) -> bool {
    (192..=223).contains(&second_byte)
}

/// RFC 3550 §A.2 validity of a compound RTCP packet: version 2 in every part, the first
/// part an SR or RR (or, as RFC 5506 reduced-size RTCP allows, any RTCP type), no padding
/// except in the last part, and lengths that add up exactly to the datagram.
pub fn is_rtcp(b: &[u8]) -> bool {
    if b.len() < 8 || !is_rtcp_type(b[1]) {
        return false;
    }
    let mut off = 0;
    while off < b.len() {
        let Some(h) = b.get(off..off + 4) else {
            return false;
        };
        if h[0] >> 6 != 2 || !is_rtcp_type(h[1]) {
            return false;
        }
        let len = (usize::from(u16::from_be_bytes([h[2], h[3]])) + 1) * 4;
        off += len;
        if h[0] & 0x20 != 0 && off != b.len() {
            return false;
        }
    }
    off == b.len()
}

/// Largest forward jump still taken as loss rather than a restart (RFC 3550 §A.1).
const MAX_DROPOUT: u16 = 3000;
/// Largest backward step still taken as reordering (RFC 3550 §A.1).
const MAX_MISORDER: u16 = 100;
/// How far back duplicates are recognised.
const WINDOW: u64 = 128;

/// What one sequence number meant to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// The first packet.
    First,
    /// The next expected number, or a forward jump over lost packets.
    InOrder { gap: u64 },
    /// Older than the highest seen, not seen before.
    Late,
    /// Seen before.
    Duplicate,
    /// A jump too large to be loss: taken as a new sequence base (RFC 3550 §A.1 restart;
    /// here accepted at once, as tshark's stream statistics do not discard packets).
    Restart,
}

/// Sequence accounting of one stream: extended highest sequence number with wrap-around
/// cycles, packets received, duplicates (within the last 128 numbers).
#[derive(Debug, Clone, Default)]
pub struct SeqStats {
    /// Extended sequence number of the first packet (after the last restart).
    pub base: u64,
    /// Highest extended sequence number received.
    pub max: u64,
    pub received: u64,
    pub duplicates: u64,
    /// Packets counted before the last restart (their expected and received numbers).
    prior_expected: u64,
    prior_received: u64,
    /// Bit i set: `max - i` was received.
    seen: u128,
    started: bool,
}

impl SeqStats {
    /// Accounts one packet.
    pub fn update(&mut self, seq: u16) -> SeqOutcome {
        self.received += 1;
        if !self.started {
            self.started = true;
            // Start the extended numbers one cycle up so reordering before the first
            // packet cannot go below zero.
            self.base = (1 << 16) + u64::from(seq);
            self.max = self.base;
            self.seen = 1;
            return SeqOutcome::First;
        }
        let max16 = self.max as u16;
        let fwd = seq.wrapping_sub(max16);
        if fwd == 0 {
            self.duplicates += 1;
            return SeqOutcome::Duplicate;
        }
        if fwd < MAX_DROPOUT {
            let d = u64::from(fwd);
            self.seen = if d >= 128 { 0 } else { self.seen << d };
            self.seen |= 1;
            self.max += d;
            return SeqOutcome::InOrder { gap: d - 1 };
        }
        let back = max16.wrapping_sub(seq);
        if back <= MAX_MISORDER {
            let back = u64::from(back);
            if back < WINDOW {
                let bit = 1u128 << back;
                if self.seen & bit != 0 {
                    self.duplicates += 1;
                    return SeqOutcome::Duplicate;
                }
                self.seen |= bit;
            }
            if self.max - back < self.base {
                // Reordered before the first packet: the stream started earlier.
                self.base = self.max - back;
            }
            return SeqOutcome::Late;
        }
        // A large jump: keep what was counted so far and start over from here.
        self.prior_expected += self.max - self.base + 1;
        self.prior_received += self.received - 1;
        self.base = (((self.max >> 16) + 2) << 16) | u64::from(seq);
        self.max = self.base;
        self.seen = 1;
        SeqOutcome::Restart
    }

    /// Expected packets: highest extended number minus first, plus one (RFC 3550 §A.3),
    /// summed over restarts.
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        self.prior_expected + self.max - self.base + 1
    }

    /// Expected minus received; negative when duplicates outnumber losses.
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Wrap-arounds of the 16-bit sequence number so far.
    pub fn cycles(&self) -> u64 {
        (self.max >> 16) - (self.base >> 16)
    }
}

/// Interarrival jitter (RFC 3550 §A.8) in timestamp units, fed with arrival times and
/// RTP timestamps of packets of one payload format.
#[derive(Debug, Clone, Default)]
pub struct Jitter {
    last: Option<(Timestamp, u32)>,
    /// Current estimate in timestamp units.
    pub jitter: f64,
    pub max: f64,
    /// Sum of the estimates after each update, and their number (for the mean).
    pub sum: f64,
    pub updates: u64,
}

impl Jitter {
    /// `rate`: the payload format's clock rate in Hz.
    pub fn update(&mut self, arrival: Timestamp, ts: u32, rate: u32) {
        if let Some((prev_arrival, prev_ts)) = self.last {
            let arrival_units = arrival.seconds_since(prev_arrival) * f64::from(rate);
            let ts_units = f64::from(ts.wrapping_sub(prev_ts) as i32);
            let d = (arrival_units - ts_units).abs();
            self.jitter += (d - self.jitter) / 16.0;
            self.max = self.max.max(self.jitter);
            self.sum += self.jitter;
            self.updates += 1;
        }
        self.last = Some((arrival, ts));
    }

    /// Mean of the estimates (Wireshark's "Mean Jitter"), timestamp units.
    pub fn mean(&self) -> f64 {
        if self.updates == 0 {
            0.0
        } else {
            self.sum / self.updates as f64
        }
    }

    /// Forgets the previous packet (after a payload format change or restart).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// Where the clock rate of a stream's payload type comes from, and why jitter cannot be
/// measured without one (RFC 3550 §6.4.1 measures jitter in timestamp units, which only the
/// payload format's clock rate turns into time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The rate in Hz: the SDP's `a=rtpmap`, or the static payload type's (RFC 3551).
    Rate(u32),
    /// The SDP in force lists the payload type without a clock rate (a dynamic type with no
    /// `a=rtpmap`).
    NoRtpmap,
    /// The SDP in force does not list the payload type at all.
    NotInSdp,
    /// No SDP, and the payload type is dynamic (96-127) or unassigned: its rate is unknown.
    Unknown,
}

impl Clock {
    /// The clock of payload type `pt`. `sdp`: the payload list of the SDP that announced the
    /// stream's address, `None` for a stream no SDP announced.
    pub fn of(pt: u8, sdp: Option<&[crate::sip::sdp::Payload]>) -> Clock {
        match sdp {
            Some(list) => match list.iter().find(|p| p.pt == pt) {
                Some(p) => p.clock_rate.map_or(Clock::NoRtpmap, Clock::Rate),
                None => Clock::NotInSdp,
            },
            None => crate::sip::sdp::static_clock_rate(pt).map_or(Clock::Unknown, Clock::Rate),
        }
    }

    pub fn rate(self) -> Option<u32> {
        match self {
            Clock::Rate(r) => Some(r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(pt: u8, seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
        let mut b = vec![0x80, pt];
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&ts.to_be_bytes());
        b.extend_from_slice(&ssrc.to_be_bytes());
        b.extend_from_slice(&[0xd5; 160]);
        b
    }

    #[test]
    fn parses_header() {
        let h = parse(&pkt(0x80 | 8, 7, 160, 0xdeadbeef)).unwrap();
        assert_eq!(
            h,
            Header {
                marker: true,
                payload_type: 8,
                seq: 7,
                timestamp: 160,
                ssrc: 0xdeadbeef
            }
        );
        let mut v1 = pkt(0, 1, 0, 1);
        v1[0] = 0x40;
        assert!(parse(&v1).is_none(), "version 1");
        let mut cc = pkt(0, 1, 0, 1);
        cc[0] = 0x8F; // 15 CSRCs = 60 bytes, fits in 172
        assert!(parse(&cc).is_some());
        assert!(parse(&cc[..60]).is_none());
        let mut pad = pkt(0, 1, 0, 1);
        pad[0] |= 0x20;
        *pad.last_mut().unwrap() = 0;
        assert!(parse(&pad).is_none(), "padding count 0");
        assert!(parse(&[0x80, 0, 0, 1]).is_none());
    }

    #[test]
    fn rtcp_compound_validity() {
        // RR (PT 201) with no report blocks, then SDES (PT 202) with length 1.
        let mut b = vec![0x80, 201, 0, 1, 1, 2, 3, 4];
        b.extend_from_slice(&[0x81, 202, 0, 1, 1, 2, 3, 4]);
        assert!(is_rtcp(&b));
        assert!(!is_rtcp(&b[..12]), "length does not add up");
        let mut bad = b.clone();
        bad[9] = 100;
        assert!(!is_rtcp(&bad), "second part is not RTCP");
        assert!(!is_rtcp(&pkt(0, 1, 0, 1)));
    }

    #[test]
    fn loss_duplicates_and_reordering() {
        let mut s = SeqStats::default();
        for q in [10u16, 11, 12, 14, 15, 15, 13, 17] {
            s.update(q);
        }
        // 10..=17 expected (8), received 8 including one duplicate; 16 missing.
        assert_eq!(s.expected(), 8);
        assert_eq!(s.received, 8);
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.update(17), SeqOutcome::Duplicate);
        assert_eq!(s.lost(), -1);
        assert_eq!(s.update(12), SeqOutcome::Duplicate);
        assert_eq!(s.update(20), SeqOutcome::InOrder { gap: 2 });
        assert_eq!(s.expected(), 11);
        assert_eq!(s.lost(), 11 - 11);
    }

    #[test]
    fn sequence_wrap_counts_cycles() {
        let mut s = SeqStats::default();
        let mut q: u16 = 65530;
        for _ in 0..20 {
            s.update(q);
            q = q.wrapping_add(1);
        }
        assert_eq!(s.cycles(), 1);
        assert_eq!(s.expected(), 20);
        assert_eq!(s.lost(), 0);
        // Lose two across the next wrap.
        let mut s = SeqStats::default();
        for q in [65533u16, 65534, 1, 2] {
            s.update(q);
        }
        assert_eq!(s.expected(), 6);
        assert_eq!(s.lost(), 2);
        // A late packet from before the first one extends the base.
        let mut s = SeqStats::default();
        for q in [1u16, 2, 0, 3, 65535] {
            s.update(q);
        }
        assert_eq!(s.expected(), 5);
        assert_eq!(s.lost(), 0);
    }

    #[test]
    fn large_jump_restarts() {
        let mut s = SeqStats::default();
        for q in [100u16, 101, 102] {
            s.update(q);
        }
        assert_eq!(s.update(40000), SeqOutcome::Restart);
        s.update(40001);
        s.update(40003);
        assert_eq!(s.received, 6);
        assert_eq!(s.expected(), 3 + 4);
        assert_eq!(s.lost(), 1);
    }

    #[test]
    fn jitter_of_a_steady_stream_is_zero_and_grows_with_variance() {
        let mut j = Jitter::default();
        for i in 0..50u32 {
            let t = Timestamp::new(100, i * 20_000_000);
            j.update(t, i * 160, 8000);
        }
        assert!(j.jitter.abs() < 1e-6);
        // Alternate 10 ms early / late: |D| = 20 ms = 160 units each time.
        let mut j = Jitter::default();
        for i in 0..400u32 {
            let off: i64 = if i % 2 == 0 { 0 } else { 20_000_000 };
            let ns = i64::from(i) * 20_000_000 + off;
            let t = Timestamp::new(100 + ns / 1_000_000_000, (ns % 1_000_000_000) as u32);
            j.update(t, i * 160, 8000);
        }
        assert!((j.jitter - 160.0).abs() < 1.0, "{}", j.jitter);
        assert!(j.max >= j.jitter);
    }

    #[test]
    fn clock_rates() {
        use crate::sip::sdp::Payload;
        let pay = |pt: u8, rate: Option<u32>| Payload {
            pt,
            name: None,
            clock_rate: rate,
        };
        let sdp = [pay(96, Some(48000)), pay(97, None), pay(9, Some(8000))];
        assert_eq!(Clock::of(96, Some(&sdp)), Clock::Rate(48000));
        assert_eq!(Clock::of(97, Some(&sdp)), Clock::NoRtpmap);
        assert_eq!(Clock::of(98, Some(&sdp)), Clock::NotInSdp);
        assert_eq!(
            Clock::of(0, Some(&sdp)),
            Clock::NotInSdp,
            "listed types only"
        );
        assert_eq!(
            Clock::of(9, None),
            Clock::Rate(8000),
            "G.722: RFC 3551 §4.5.2"
        );
        assert_eq!(Clock::of(10, None), Clock::Rate(44100));
        assert_eq!(Clock::of(34, None), Clock::Rate(90000));
        assert_eq!(Clock::of(111, None), Clock::Unknown);
        assert_eq!(Clock::of(111, None).rate(), None);
    }
}
