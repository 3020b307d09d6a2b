//! FM007 second-leg-codec-rejected: the PBX rejected XCC's second leg for its codecs.

use serde_json::json;

use crate::sip::sdp::Sdp;

use super::followme::{answered, cite, second_leg_finding, second_legs};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM007",
    slug: "second-leg-codec-rejected",
    severity: Severity::Error,
    summary: "The PBX rejected XCC's second leg for its codecs (488/606, or no codec in common)",
    doc: RuleDoc {
        what: "XCC's second leg answered 488 Not Acceptable Here or 606 Not Acceptable, or answered with an SDP that has no audio codec in common with XCC's offer. (415 Unsupported Media Type rejects the body type, not a codec: FM009 reports it.)",
        why: "PBX and XCC could not agree on a codec, so the call to the mobile cannot be set up (or has no audio). XCC offers Opus, G.711 (PCMA/PCMU) and G.722.",
        fix: "Remove the codec the PBX does not accept from the SIP gateway's codec list in XPhone Connect (or put G.711 first), or allow the offered codec on the PBX's SIP line.",
        example: "offer opus, G722 (frame 9) answered 488 with Warning: 304 \"Media type not available\" (frame 11)",
    },
};

fn audio_codecs(sdp: Option<&Sdp>) -> Vec<crate::sip::sdp::Name> {
    sdp.map(|s| {
        s.media
            .iter()
            .filter(|m| m.kind == "audio" && m.port != 0)
            .flat_map(|m| m.codecs())
            .collect()
    })
    .unwrap_or_default()
}

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (c, t) in second_legs(cx) {
            let offer = audio_codecs(t.offer.as_ref());
            let answer = audio_codecs(t.answer.as_ref());
            // 415 rejects the body's type (RFC 3261 §21.4.13), not the codecs in it: FM009.
            let rejected = matches!(t.final_status, Some(488 | 606));
            let no_common = t.final_status.is_some_and(|s| (200..300).contains(&s))
                && t.answer.is_some()
                && !offer.is_empty()
                && !answer
                    .iter()
                    .any(|a| offer.iter().any(|o| o.eq_ignore_ascii_case(a)));
            if !rejected && !no_common {
                continue;
            }
            let extra: Vec<u64> = t.answer_frame.into_iter().chain(c.bye_frame).collect();
            let what = if rejected {
                format!(
                    "was {}{}",
                    answered(t),
                    t.warning()
                        .map(|w| format!(" with Warning: {w}"))
                        .unwrap_or_default()
                )
            } else {
                format!(
                    "was answered with codecs {} ({}), none of which XCC offered",
                    answer.join(", "),
                    cite(&t.answer_frame.into_iter().collect::<Vec<_>>())
                )
            };
            let mut f = second_leg_finding(
                cx,
                &INFO,
                (c, t),
                "PBX rejected the second leg's codecs".to_string(),
                format!(
                    "XCC's second leg ({}) offered {} and {what}. Remove the codec the PBX does not accept from the SIP gateway's codec list (keep G.711 PCMA/PCMU), or allow it on the PBX's SIP line.",
                    cite(&[t.request_frame]),
                    if offer.is_empty() {
                        "no audio codec".to_string()
                    } else {
                        offer.join(", ")
                    },
                ),
                &extra,
            );
            f.evidence["offer_codecs"] = json!(offer);
            f.evidence["answer_codecs"] = json!(answer);
            out.push(f);
        }
        out
    }
}
