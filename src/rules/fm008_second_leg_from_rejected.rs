//! FM008 second-leg-from-rejected: the provider/PBX rejected the second leg's From (CLIP).

use super::followme::{answered, cite, second_leg_finding, second_legs};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM008",
    slug: "second-leg-from-rejected",
    severity: Severity::Error,
    summary: "The second leg was refused for its From/CLIP (403/603, or 401/407 never retried)",
    doc: RuleDoc {
        what: "XCC's second leg answered 403 Forbidden or 603 Decline, or challenged with 401/407 and never retried with credentials.",
        why: "XCC copies the original caller's number into From on the second leg. A provider accepts only the customer's own numbers as CLIP, so a foreign caller number is refused.",
        fix: "In XPhone Connect Advanced Settings set XccLineNumberAsClipFirstLeg = True and XccLineNumberAsClipSecondLeg = True, so XCC presents the line's own number; or allow CLIP no screening on the trunk.",
        example: "INVITE from +4915112345678 (frame 9) answered 403 Forbidden (frame 11)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        second_legs(cx)
            .into_iter()
            .filter(|(_, t)| {
                matches!(t.final_status, Some(403 | 603))
                    || matches!(t.final_status, Some(401 | 407))
            })
            .map(|(c, t)| {
                let from = t
                    .from
                    .as_ref()
                    .and_then(|f| f.user.clone())
                    .unwrap_or_else(|| "?".into());
                let challenge = matches!(t.final_status, Some(401 | 407));
                second_leg_finding(
                    cx,
                    &INFO,
                    (c, t),
                    format!("Second leg refused for caller number {from}"),
                    format!(
                        "XCC's second leg ({}) with From {from} was {}{}. The provider does not accept a caller number (CLIP) that is not the customer's. Set XccLineNumberAsClipFirstLeg = True and XccLineNumberAsClipSecondLeg = True in Advanced Settings.",
                        cite(&[t.request_frame]),
                        answered(t),
                        if challenge {
                            " and XCC never retried with credentials"
                        } else {
                            ""
                        },
                    ),
                    &[],
                )
            })
            .collect()
    }
}
