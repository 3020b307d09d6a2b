//! SP006 rtp-loss: an RTP stream loses packets or arrives with heavy jitter.
//!
//! Only streams the media stage found consistent are judged (a stream recognised by its
//! headers alone must keep its SSRC and advance its timestamps at a media clock, see
//! [`crate::media::heuristic`]). Jitter is judged only where it was measured at the payload
//! format's clock rate (RFC 3550 §6.4.1 measures it in timestamp units), and never for
//! video, whose packets of one frame leave together: video is judged by loss.

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::calls::Call;
use crate::media::MediaReport;
use crate::media::analysis::{flow_filter, frame_list};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP006",
    slug: "rtp-loss",
    severity: Severity::Warning,
    summary: "An RTP stream loses more than 5 % of its packets or its interarrival jitter exceeds 50 ms on average",
    doc: RuleDoc {
        what: "For every RTP stream of at least 50 packets: the loss from its sequence numbers (expected minus received, RFC 3550 §A.3) above 5 % of the expected packets, or, for audio, the interarrival jitter (RFC 3550 §A.8) above 50 ms on average over the stream (the mean of the running estimate, as Wireshark's \"Mean Jitter\"; the maximum alone jumps at every pause in sending, such as hold or a switch to T.38, and is reported only as evidence). Jitter is measured at the payload format's clock rate: the SDP's a=rtpmap rate (L16/48000, speex/32000, opus/48000, …) or the static payload type's (RFC 3551; G.722 is 8000 Hz); a payload type the SDP does not list, or a dynamic one without SDP, has no known clock and its jitter is not judged (the finding says so). Video streams (m=video, or a static video payload type) are judged by loss only. A stream no SDP announced and no STUN validated is judged only when it is consistent RTP: at least 10 packets, a stable SSRC, timestamps advancing at an audio or video clock.",
        why: "Above a few percent of loss, speech becomes choppy; jitter beyond the receiver's jitter buffer (typically 40-60 ms) is heard as loss too. Both point to a congested or lossy path (Wi-Fi, VPN, an overloaded uplink) rather than to a configuration error, and users report 'bad quality' or 'dropouts' rather than silence.",
        fix: "Find the lossy hop: capture at both ends and compare. Typical remedies are QoS (DSCP EF for RTP, prioritised on the uplink), a wired connection instead of Wi-Fi, excluding RTP from VPN tunnels with small MTU or high load, and enough bandwidth for the codec (G.711 needs about 90 kbit/s per direction).",
        example: "RTP 10.1.2.3:49200 → 10.0.0.5:30010 SSRC 0x2A6B1C01 (PCMU): 90 of 100 packets, 10 lost (10.0 %), gaps before frames 39, 59, 79",
    },
};

/// Streams shorter than this are not judged.
pub(crate) const MIN_PACKETS: u64 = 50;
/// Loss above this fraction is reported.
const MAX_LOSS: f64 = 0.05;
/// Mean jitter above this many milliseconds is reported.
const MAX_JITTER_MS: f64 = 50.0;

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Media
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        findings(cx.media, cx.calls)
    }
}

pub(crate) fn findings(media: &MediaReport, _calls: &[Call]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &media.rtp {
        if s.packets < MIN_PACKETS {
            continue;
        }
        if !s.consistent {
            continue;
        }
        let video = s.is_video();
        let loss = s.loss_fraction();
        let lossy = loss > MAX_LOSS;
        let jittery = !video && s.clock_rate.is_some() && s.mean_jitter_ms > MAX_JITTER_MS;
        if !lossy && !jittery {
            continue;
        }
        let codec = s
            .codec
            .as_deref()
            .map_or_else(|| format!("PT {}", s.payload_type), str::to_string);
        let mut problems = Vec::new();
        if lossy {
            problems.push(format!(
                "{} of {} expected packets lost ({:.1} %){}",
                s.lost,
                s.expected,
                loss * 100.0,
                if s.gap_frames.is_empty() {
                    String::new()
                } else {
                    format!(", gaps before frames {}", frame_list(&s.gap_frames))
                }
            ));
        }
        if jittery {
            problems.push(format!(
                "an interarrival jitter of {:.1} ms on average (up to {:.1} ms)",
                s.mean_jitter_ms, s.max_jitter_ms
            ));
        }
        let title = format!(
            "{}RTP {} → {} ({codec}): {}",
            if video { "Video " } else { "" },
            s.src,
            s.dst,
            match (lossy, jittery) {
                (true, true) => format!(
                    "{:.1} % loss and {:.0} ms jitter",
                    loss * 100.0,
                    s.mean_jitter_ms
                ),
                (true, false) => format!("{:.1} % packet loss", loss * 100.0),
                _ => format!("{:.0} ms jitter", s.mean_jitter_ms),
            }
        );
        let message = if video {
            format!(
                "The video stream {} → {} (SSRC {}, {codec}, {} packets, frames {}-{}) shows {}. The viewer at {} sees frozen or broken pictures: a lost packet damages its frame and the frames that refer to it until the next key frame. The path from {} to {} loses packets: compare with a capture at the sender, make sure the link carries the video bitrate (often 0.5-2 Mbit/s per direction), prioritise media (DSCP AF41 for video) and avoid Wi-Fi or congested VPN links. (Video is judged by loss only: the packets of one frame leave together, so their arrival spread is no jitter.){}",
                s.src,
                s.dst,
                s.ssrc_hex(),
                s.packets,
                s.first_frame,
                s.last_frame,
                problems.join(" and "),
                s.dst,
                s.src,
                s.dst,
                s.jitter_note
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" Note: {n}."))
            )
        } else {
            format!(
                "The stream {} → {} (SSRC {}, {codec}, {} packets, frames {}-{}) shows {}. The listener at {} hears dropouts. The path from {} to {} loses or delays packets: compare with a capture at the sender, prioritise RTP (DSCP EF/QoS), avoid Wi-Fi or congested VPN links for voice.{}",
                s.src,
                s.dst,
                s.ssrc_hex(),
                s.packets,
                s.first_frame,
                s.last_frame,
                problems.join(" and "),
                s.dst,
                s.src,
                s.dst,
                s.jitter_note
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" Jitter was not judged: {n}."))
            )
        };
        let mut frames = vec![s.first_frame, s.last_frame];
        frames.extend(&s.gap_frames);
        let mut f = Finding::new(&INFO, title, message)
            .frames(frames)
            .evidence(json!({
                "src": s.src.to_string(),
                "dst": s.dst.to_string(),
                "ssrc": s.ssrc_hex(),
                "codec": s.codec,
                "kind": s.kind,
                "clock_rate": s.clock_rate,
                "jitter_note": s.jitter_note,
                "packets": s.packets,
                "expected": s.expected,
                "lost": s.lost,
                "loss_percent": (loss * 1000.0).round() / 10.0,
                "duplicates": s.duplicates,
                "jitter_ms": (s.jitter_ms * 100.0).round() / 100.0,
                "max_jitter_ms": (s.max_jitter_ms * 100.0).round() / 100.0,
                "mean_jitter_ms": (s.mean_jitter_ms * 100.0).round() / 100.0,
                "gap_frames": s.gap_frames,
            }))
            .filter(flow_filter(s.src, s.dst));
        if let Some(id) = &s.call_id {
            f = f.call(id);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaTracker;
    use crate::media::testing::*;

    #[test]
    fn heavy_jitter_is_reported() {
        let mut t = MediaTracker::default();
        // Packets every 20 ms of media time, arriving alternately 0 and 150 ms late.
        for i in 0..100u16 {
            let p = rtp_pkt(i, 160 * u32::from(i), 9, 8);
            let late = if i % 2 == 0 { 0 } else { 150 };
            t.datagram(&dgram(
                u64::from(i) + 1,
                20 * u32::from(i) + late,
                "10.1.0.5:50000",
                "10.0.0.5:30010",
                &p,
            ));
        }
        let m = t.finish();
        assert_eq!(m.rtp.len(), 1);
        let f = findings(&m, &[]);
        assert_eq!(f.len(), 1);
        assert!(f[0].title.contains("ms jitter"), "{}", f[0].title);
        assert!(m.rtp[0].mean_jitter_ms > 50.0, "{:?}", m.rtp[0]);
        assert_eq!(m.rtp[0].lost, 0);
    }

    #[test]
    fn small_loss_and_short_streams_pass() {
        let mut t = MediaTracker::default();
        // 100 packets with 4 missing: 4 % is below the threshold.
        for i in (0..104u16).filter(|i| i % 25 != 3) {
            let p = rtp_pkt(i, 160 * u32::from(i), 9, 0);
            t.datagram(&dgram(
                u64::from(i) + 1,
                20 * u32::from(i),
                "10.1.0.5:50000",
                "10.0.0.5:30010",
                &p,
            ));
        }
        // 40 packets with 20 % loss: too short to judge.
        for i in (0..50u16).filter(|i| i % 5 != 4) {
            let p = rtp_pkt(i, 160 * u32::from(i), 10, 0);
            t.datagram(&dgram(
                u64::from(i) + 500,
                20 * u32::from(i),
                "10.1.0.5:50002",
                "10.0.0.5:30012",
                &p,
            ));
        }
        let m = t.finish();
        assert_eq!(m.rtp.len(), 2);
        assert_eq!(m.rtp[0].lost, 4);
        assert!(findings(&m, &[]).is_empty());
    }
}
