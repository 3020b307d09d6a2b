//! FM007 second-leg-codec-rejected: the PBX rejected XCC's second leg for its codecs.

use serde_json::json;

use crate::sip::sdp::Sdp;

use super::followme::{call_filter, cite, linked_first, second_legs, tx_evidence, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM007",
    slug: "second-leg-codec-rejected",
    severity: Severity::Error,
    summary: "The PBX rejected XCC's second leg for its codecs (488/606/415, or no codec in common)",
    doc: RuleDoc {
        what: "XCC's second leg answered 488 Not Acceptable Here, 606 Not Acceptable or 415 Unsupported Media Type, or answered with an SDP that has no audio codec in common with XCC's offer.",
        why: "PBX and XCC could not agree on a codec, so the call to the mobile cannot be set up (or has no audio). XCC offers Opus, G.711 (PCMA/PCMU) and G.722.",
        fix: "Remove the codec the PBX does not accept from the SIP gateway's codec list in XPhone Connect (or put G.711 first), or allow the offered codec on the PBX's SIP line.",
        example: "offer opus, G722 (frame 9) answered 488 with Warning: 304 \"Media type not available\" (frame 11)",
    },
};

fn audio_codecs(sdp: Option<&Sdp>) -> Vec<String> {
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
            let rejected = matches!(t.final_status, Some(488 | 606 | 415));
            let no_common = t.final_status.is_some_and(|s| (200..300).contains(&s))
                && t.answer.is_some()
                && !offer.is_empty()
                && !answer
                    .iter()
                    .any(|a| offer.iter().any(|o| o.eq_ignore_ascii_case(a)));
            if !rejected && !no_common {
                continue;
            }
            let first = linked_first(cx, c);
            let mut frames = tx_frames(t);
            frames.extend(t.answer_frame);
            frames.extend(c.bye_frame);
            let what = if rejected {
                format!(
                    "was answered {} {} ({}){}",
                    t.final_status.unwrap_or(0),
                    t.final_reason.clone().unwrap_or_default(),
                    cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                    t.warning
                        .as_ref()
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
            let ids: Vec<&str> = std::iter::once(c.call_id.as_str())
                .chain(first.map(|f| f.call_id.as_str()))
                .collect();
            let mut ev = tx_evidence(c, t, cx);
            ev["offer_codecs"] = json!(offer);
            ev["answer_codecs"] = json!(answer);
            out.push(
                Finding::new(
                    &INFO,
                    "PBX rejected the second leg's codecs",
                    format!(
                        "XCC's second leg ({}) offered {} and {what}. Remove the codec the PBX does not accept from the SIP gateway's codec list (keep G.711 PCMA/PCMU), or allow it on the PBX's SIP line.",
                        cite(&[t.request_frame]),
                        if offer.is_empty() { "no audio codec".to_string() } else { offer.join(", ") },
                    ),
                )
                .call(&c.call_id)
                .frames(frames)
                .evidence(ev)
                .filter(call_filter(&ids)),
            );
        }
        out
    }
}
