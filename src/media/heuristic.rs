//! Whether an RTP stream that no SDP describes may be judged.
//!
//! Stage: media, inside [`super::MediaTracker`]. Input: per stream, the packets that
//! followed each other in sequence (their RTP timestamps and arrival times), and per flow,
//! how often the SSRC changed from one packet to the next. Output: a verdict for
//! [`super::RtpStream::consistent`].
//!
//! A flow that no SDP announced is taken for RTP once three packets of one SSRC carry
//! consecutive sequence numbers, or at once on a pair STUN validated (the counts tshark's
//! heuristic RTP view agrees with). The first is easily met by other UDP: a BACnet/IP
//! answer (UDP 47808) starts with `0x81 0x0a` — RTP version 2, payload type 10 (L16) — and
//! its length field, read as a sequence number, grows by one when each answer is one byte
//! longer than the last. On an ICE pair, WebRTC's bandwidth probes (SSRC 0, padding only,
//! one timestamp throughout) are RTP without media.
//! Such streams must not be judged for loss or jitter. RTP as RFC 3550 §5.1 defines it
//! also keeps its SSRC and advances its timestamp with the sampling clock (§5.1
//! "timestamp"; RFC 3551 tables 4/5 give clocks from 8000 to 90000 Hz), so a stream is
//! judged only when:
//!
//! - it has at least [`MIN_PACKETS`] packets;
//! - the SSRC stays: at most one packet in [`MAX_SWITCH_SHARE`] of the flow changes it
//!   (random bytes change it on nearly every packet);
//! - timestamps go forward: at most one in-sequence step in ten goes back (video repeats a
//!   timestamp across the packets of one frame, which is allowed);
//! - timestamps advance at a plausible media clock: between [`MIN_CLOCK_HZ`] and
//!   [`MAX_CLOCK_HZ`] timestamp units per second of arrival time, over the steps between
//!   packets in sequence (silence suppression and hold keep this rate, as the timestamp
//!   runs on while nothing is sent).

use crate::capture::Timestamp;

/// Packets a stream no SDP describes needs before it is judged.
pub const MIN_PACKETS: u64 = 10;
/// One SSRC change in this many packets of the flow is still a stable SSRC.
pub const MAX_SWITCH_SHARE: u64 = 4;
/// Half the slowest clock of RFC 3551 (8000 Hz).
pub const MIN_CLOCK_HZ: f64 = 4000.0;
/// Twice the video clock of RFC 3551 (90000 Hz).
pub const MAX_CLOCK_HZ: f64 = 180_000.0;

/// Timestamp progress of a stream over the packets that arrived in sequence.
#[derive(Debug, Clone, Default)]
pub struct TsProgress {
    last: Option<(Timestamp, u32)>,
    /// Sum of the timestamp steps (wrapping differences read as signed, RFC 3550 §A.8).
    advance: i64,
    /// Sum of the arrival time steps, seconds.
    seconds: f64,
    steps: u64,
    backwards: u64,
}

impl TsProgress {
    /// A packet that arrived in sequence (`counted`) or out of it: only steps between
    /// packets in sequence count; anything else only moves the reference point.
    pub fn update(&mut self, arrival: Timestamp, ts: u32, counted: bool) {
        if counted && let Some((t0, ts0)) = self.last {
            let d = i64::from(ts.wrapping_sub(ts0) as i32);
            self.advance += d;
            self.seconds += arrival.seconds_since(t0);
            self.steps += 1;
            self.backwards += u64::from(d < 0);
        }
        self.last = Some((arrival, ts));
    }

    /// Timestamp units per second of arrival time, when any time passed.
    pub fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.advance as f64 / self.seconds)
    }
}

/// Why a stream recognised by sequence alone may not be judged; `None` when it may.
pub fn inconsistency(
    packets: u64,
    flow_packets: u64,
    ssrc_switches: u64,
    ts: &TsProgress,
) -> Option<String> {
    if packets < MIN_PACKETS {
        return Some(format!(
            "only {packets} packet(s), fewer than the {MIN_PACKETS} needed to judge RTP that no SDP describes"
        ));
    }
    if ssrc_switches * MAX_SWITCH_SHARE > flow_packets {
        return Some(format!(
            "the SSRC changes {ssrc_switches} times in {flow_packets} packets of the flow"
        ));
    }
    if ts.backwards * 10 > ts.steps {
        return Some(format!(
            "the RTP timestamp goes back in {} of {} steps",
            ts.backwards, ts.steps
        ));
    }
    match ts.rate() {
        Some(r) if (MIN_CLOCK_HZ..=MAX_CLOCK_HZ).contains(&r) => None,
        Some(r) => Some(format!(
            "the RTP timestamp advances {r:.0} units per second, no audio or video clock (RFC 3551: 8000-90000 Hz)"
        )),
        None => Some("all its packets arrived at the same instant".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::new(100 + ms / 1000, ((ms % 1000) * 1_000_000) as u32)
    }

    #[test]
    fn audio_and_video_clocks_pass() {
        // 8000 Hz audio, 20 ms packets, with a talk spurt gap the timestamp runs through.
        let mut ts = TsProgress::default();
        for i in 0..50i64 {
            let slot = if i < 25 { i } else { i + 100 };
            ts.update(at(slot * 20), (slot * 160) as u32, true);
        }
        assert_eq!(inconsistency(50, 50, 0, &ts), None);
        // 90000 Hz video: three packets per frame share a timestamp.
        let mut ts = TsProgress::default();
        for i in 0..60i64 {
            ts.update(at(i * 13), ((i / 3) * 3600) as u32, true);
        }
        assert_eq!(inconsistency(60, 60, 0, &ts), None);
    }

    #[test]
    fn bacnet_like_counters_fail() {
        // The "timestamp" grows by one per answer, five answers a second.
        let mut ts = TsProgress::default();
        for i in 0..60i64 {
            ts.update(at(i * 200), 0x0100_3000 + i as u32, true);
        }
        let why = inconsistency(60, 60, 0, &ts).unwrap();
        assert!(why.contains("advances 5 units per second"), "{why}");
        assert!(
            inconsistency(9, 9, 0, &TsProgress::default())
                .unwrap()
                .contains("only 9")
        );
        let why = inconsistency(20, 100, 40, &ts).unwrap();
        assert!(why.contains("SSRC changes 40 times"), "{why}");
        // Timestamps that jump back and forth.
        let mut ts = TsProgress::default();
        for i in 0..40i64 {
            let t = if i % 2 == 0 { 16000 + i * 160 } else { 100 };
            ts.update(at(i * 20), t as u32, true);
        }
        assert!(inconsistency(40, 40, 0, &ts).unwrap().contains("goes back"));
        // Every packet at once.
        let mut ts = TsProgress::default();
        for i in 0..20u32 {
            ts.update(at(0), i * 160, true);
        }
        assert!(
            inconsistency(20, 20, 0, &ts)
                .unwrap()
                .contains("same instant")
        );
    }

    #[test]
    fn steps_out_of_sequence_do_not_count() {
        let mut ts = TsProgress::default();
        ts.update(at(0), 0, true);
        ts.update(at(20), 160, true);
        ts.update(at(40), 9_000_000, false); // a restart: reference only
        ts.update(at(60), 9_000_160, true);
        assert_eq!(ts.steps, 2);
        assert_eq!(ts.advance, 320);
        assert!((ts.rate().unwrap() - 8000.0).abs() < 1.0);
    }
}
