//! FM011 second-leg-not-answered: XCC's second leg rang at the AnyDevice and nobody
//! answered (XCC cancelled it, or the far end's no-answer timer ended it).
//!
//! Input: the second legs of the [`Context`]. Output: one warning per such leg. Invariant:
//! a leg this rule reports is never reported by FM009 (both use
//! [`super::followme::rang_unanswered`]).

use serde_json::json;

use super::followme::{cite, rang_unanswered, second_leg_finding, second_legs};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

/// What to check on the AnyDevice when nobody answered, whether it rang (180) or not (183).
const DEVICE_CHECKS: &str = "the device (switched on, reachable, not on do-not-disturb), whether its voicemail should have answered, and XCC's ring timeout for the AnyDevice.";

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM011",
    slug: "second-leg-not-answered",
    severity: Severity::Warning,
    summary: "XCC's second leg rang at the AnyDevice and nobody answered",
    doc: RuleDoc {
        what: "XCC's second leg (XCC → PBX INVITE to the user's AnyDevice) got 180 Ringing or 183 Session Progress and then ended unanswered: XCC cancelled it (CANCEL, 487), or the far end gave up with 408, 480 or 487. With a 183 and no 180 the finding says that the device may not have rung, and names the early media to listen to.",
        why: "The PBX routed the call and the far end took it, so routing, number format and codecs worked; the call failed only because nobody picked up in time — or, after a 183 alone, because the network played an announcement instead of ringing (a mobile switched off or out of coverage). Treating it as a routing failure sends the PBX technician after a problem that does not exist.",
        fix: "Check the AnyDevice itself (switched on, reachable, not on do-not-disturb, no call waiting blocked), whether its voicemail should have answered, and XCC's ring timeout for the AnyDevice: if it is shorter than the time the user needs to answer (or than the mobile's own voicemail delay), raise it.",
        example: "second leg INVITE (frame 4) rang (180, frame 6) for 2.0 s; XCC cancelled it (frame 7), 487 (frame 9)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (c, t) in second_legs(cx) {
            let Some(u) = rang_unanswered(c, t) else {
                continue;
            };
            let to =
                t.to.as_ref()
                    .and_then(|n| n.user.clone())
                    .unwrap_or_else(|| t.request_uri.clone());
            let how_long = u
                .ring_seconds
                .map(|s| format!(" for {s:.1} s"))
                .unwrap_or_default();
            let ended = match (t.cancel_frame, t.final_status) {
                (Some(cf), fin) => format!(
                    "XCC cancelled it ({}){}",
                    cite(&[cf]),
                    fin.zip(t.final_frame)
                        .map(|(s, f)| format!(", final {s} ({})", cite(&[f])))
                        .unwrap_or_default()
                ),
                (None, fin) => format!(
                    "the far end ended it with {} {} ({})",
                    fin.unwrap_or(0),
                    t.final_reason.as_deref().unwrap_or(""),
                    cite(&[u.end_frame])
                ),
            };
            // Early media in the 183 (its SDP): a ringback tone, or an announcement.
            let early = (t.answer.as_ref())
                .filter(|_| t.answer_frame == Some(u.ringing_frame))
                .map(crate::media::analysis::sdp_audio_addrs)
                .and_then(|a| a.first().copied());
            let (title, message) = if u.ringing_status == 180 {
                (
                    format!("AnyDevice {to} rang{how_long}, nobody answered"),
                    format!(
                        "XCC's second leg ({}) to {to} rang ({} at {}){how_long} and nobody answered: {ended}. This is not a routing failure: the PBX reached the device. Check {DEVICE_CHECKS}",
                        cite(&[t.request_frame]),
                        u.ringing_status,
                        cite(&[u.ringing_frame]),
                    ),
                )
            } else {
                let media = early.map_or_else(String::new, |a| {
                    format!(
                        ", with early media from {a} (play it in Wireshark: Telephony › RTP › RTP Streams)"
                    )
                });
                (
                    format!("AnyDevice {to} not answered{how_long} after 183 Session Progress"),
                    format!(
                        "XCC's second leg ({}) to {to} got {} Session Progress ({}){media}, no 180 Ringing, and was not answered{how_long}: {ended}. The PBX routed the call and the far end took it, so routing, number format and codecs worked; but a 183 does not say that the device rang: the network may have played a ringback tone, or an announcement for a phone that is switched off or out of coverage. Listen to the early media to tell which, then check {DEVICE_CHECKS}",
                        cite(&[t.request_frame]),
                        u.ringing_status,
                        cite(&[u.ringing_frame]),
                    ),
                )
            };
            let mut f = second_leg_finding(cx, &INFO, (c, t), title, message, &[]);
            f.evidence["ringing_status"] = json!(u.ringing_status);
            f.evidence["ringing_frame"] = json!(u.ringing_frame);
            f.evidence["end_frame"] = json!(u.end_frame);
            f.evidence["ring_seconds"] =
                json!(u.ring_seconds.map(|s| (s * 1000.0).round() / 1000.0));
            f.evidence["early_media"] = json!(early.map(|a| a.to_string()));
            out.push(f);
        }
        out
    }
}
