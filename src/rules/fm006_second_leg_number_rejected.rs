//! FM006 second-leg-number-rejected: the PBX rejected XCC's second leg for the number in To.

use super::followme::{answered, cite, linked_first, second_leg_finding, second_legs};
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
                let to = t
                    .to
                    .as_ref()
                    .and_then(|x| x.user.clone())
                    .unwrap_or_else(|| t.request_uri.clone());
                let first = linked_first(cx, c)
                    .map(|f| format!(" for the forwarded call {}", f.call_id))
                    .unwrap_or_default();
                second_leg_finding(
                    cx,
                    &INFO,
                    (c, t),
                    format!(
                        "PBX rejected the second leg to {to}: {} {}",
                        t.final_status.unwrap_or(0),
                        t.final_reason.as_deref().unwrap_or("")
                    ),
                    format!(
                        "XCC's second leg to {to} ({}) was {}{first}. The PBX cannot route the number in this format: adjust the SIP gateway dialling parameter Flags (e.g. add the outside-line prefix or send E.164) and check the user's AnyDevice number.",
                        cite(&[t.request_frame]),
                        answered(t),
                    ),
                    &[],
                )
            })
            .collect()
    }
}
