//! FM009 second-leg-failed: any other failure of XCC's second leg.

use super::followme::{answered, cite, second_leg_finding, second_legs};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM009",
    slug: "second-leg-failed",
    severity: Severity::Error,
    summary: "XCC's second leg failed otherwise (other status, CANCEL, or no answer)",
    doc: RuleDoc {
        what: "XCC's second leg ended with a failure not covered by FM006–FM008: another 4xx/5xx/6xx status, a CANCEL (487), or no final response at all.",
        why: "The PBX could not or did not complete the call to the user's device; usually the PBX has no route for the call or the device did not answer.",
        fix: "Have the PBX technician check the route for XCC's outgoing calls (incoming call route of the XCC trunk, ARS/short codes to the mobile network) at the time of the call; the status and frames below show where it ended.",
        example: "INVITE (frame 9) → 180 (frame 10) → CANCEL (frame 20) → 487 (frame 22)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        second_legs(cx)
            .into_iter()
            .filter(|(_, t)| match t.final_status {
                // Cancelled, or never answered at all. Ringing when the capture ended is
                // not a failure.
                None => t.cancel_frame.is_some() || t.provisional.is_empty(),
                Some(s) => {
                    s >= 300
                        && !matches!(
                            s,
                            400 | 404 | 416 | 484 | 485 | 604 | 488 | 606 | 415 | 403 | 603 | 401 | 407
                        )
                }
            })
            .map(|(c, t)| {
                let what = match (t.final_status, t.cancel_frame) {
                    (_, Some(cf)) => format!(
                        "was cancelled by XCC ({}) after {}{}",
                        cite(&[cf]),
                        if t.provisional.iter().any(|(s, _)| *s == 180 || *s == 183) { "ringing" } else { "no ringing" },
                        t.final_status.map(|s| format!(", final {s}")).unwrap_or_default()
                    ),
                    (Some(_), None) => format!("was {}", answered(t)),
                    (None, None) => "got no final response".to_string(),
                };
                second_leg_finding(
                    cx,
                    &INFO,
                    (c, t),
                    "Second leg failed".to_string(),
                    format!(
                        "XCC's second leg ({}) {what}. The PBX technician must check the routing of XCC's calls to the user's device at this time.",
                        cite(&[t.request_frame]),
                    ),
                    &[],
                )
            })
            .collect()
    }
}
