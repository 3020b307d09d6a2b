//! FM006 second-leg-number-rejected: the PBX rejected XCC's second leg for the number in To.

use super::followme::{call_filter, cite, linked_first, second_legs, tx_evidence, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM006",
    slug: "second-leg-number-rejected",
    severity: Severity::Error,
    summary: "The PBX rejected XCC's second leg for its number format (400/404/416/484/485/604)",
    doc: RuleDoc {
        what: "XCC's INVITE to the user's AnyDevice/mobile number (the second leg, XCC → PBX) answered 400, 404, 416, 484, 485 or 604.",
        why: "These answers say the called number in To/Request-URI is unknown, incomplete or ambiguous for the PBX: XCC dials the mobile in a format the PBX cannot route.",
        fix: "Adjust the SIP gateway's dialling parameter 'Flags' in XPhone Connect so the number is sent the way the PBX expects (e.g. with the outside-line prefix, national or E.164), and check the user's AnyDevice number.",
        example: "INVITE sip:015112345678@pbx (frame 9) answered 404 Not Found (frame 11)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        second_legs(cx)
            .into_iter()
            .filter(|(_, t)| matches!(t.final_status, Some(400 | 404 | 416 | 484 | 485 | 604)))
            .map(|(c, t)| {
                let first = linked_first(cx, c);
                let to = t.to.as_ref().and_then(|x| x.user.clone()).unwrap_or_else(|| t.request_uri.clone());
                let mut frames = tx_frames(t);
                if let Some(f) = first.and_then(|f| f.initial_invite()) {
                    frames.push(f.request_frame);
                    frames.extend(f.final_frame);
                }
                let ids: Vec<&str> = std::iter::once(c.call_id.as_str())
                    .chain(first.map(|f| f.call_id.as_str()))
                    .collect();
                Finding::new(
                    &INFO,
                    format!("PBX rejected the second leg to {to}: {} {}", t.final_status.unwrap_or(0), t.final_reason.clone().unwrap_or_default()),
                    format!(
                        "XCC's second leg to {to} ({}) was answered {} {} ({}){}. The PBX cannot route the number in this format: adjust the SIP gateway dialling parameter Flags (e.g. add the outside-line prefix or send E.164) and check the user's AnyDevice number.",
                        cite(&[t.request_frame]),
                        t.final_status.unwrap_or(0),
                        t.final_reason.clone().unwrap_or_default(),
                        cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                        first.map(|f| format!(" for the forwarded call {}", f.call_id)).unwrap_or_default(),
                    ),
                )
                .call(&c.call_id)
                .frames(frames)
                .evidence(tx_evidence(c, t, cx))
                .filter(call_filter(&ids))
            })
            .collect()
    }
}
