//! FM009 second-leg-failed: any other failure of XCC's second leg.

use serde_json::json;

use super::followme::{
    answered, body_type_rejected, cite, rang_unanswered, second_leg_finding, second_legs,
};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM009",
    slug: "second-leg-failed",
    severity: Severity::Error,
    summary: "XCC's second leg failed otherwise (other status, CANCEL before ringing, or no answer)",
    doc: RuleDoc {
        what: "XCC's second leg ended with a failure not covered by FM006–FM008 and FM011: another 4xx/5xx/6xx status, a CANCEL before anything rang, no final response at all, or 415 Unsupported Media Type (the PBX does not take the INVITE's body type; its Accept header says which it takes).",
        why: "The PBX could not complete the call to the user's device; usually the PBX has no route for the call. A 415 means the PBX refuses the kind of body XCC sent (e.g. multipart), not its codecs. A leg that rang and was not answered is FM011, not a failure of the route.",
        fix: "Have the PBX technician check the route for XCC's outgoing calls (incoming call route of the XCC trunk, ARS/short codes to the mobile network) at the time of the call; the status and frames below show where it ended. For 415: make XCC send a body type the PBX lists in Accept (a plain application/sdp body), or allow the body type on the PBX's SIP line.",
        example: "INVITE (frame 4) answered 500 Server Internal Error (frame 6); or 415 Unsupported Media Type with Accept: application/sdp to Content-Type: multipart/mixed",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        second_legs(cx)
            .into_iter()
            // Rang and nobody answered: FM011, not a failure of the route.
            .filter(|(c, t)| rang_unanswered(c, t).is_none())
            .filter(|(_, t)| match t.final_status {
                // Cancelled, or never answered at all. Ringing when the capture ended is
                // not a failure.
                None => t.cancel_frame.is_some() || t.provisional.is_empty(),
                Some(s) => {
                    s >= 300
                        && !matches!(
                            s,
                            400 | 404 | 416 | 484 | 485 | 604 | 488 | 606 | 403 | 603 | 401 | 407
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
                let (title, advice) = if t.final_status == Some(415) {
                    (
                        "PBX refused the second leg's body type",
                        format!(
                            "{}. Make XCC send a body the PBX accepts (a plain application/sdp body, no multipart), or allow the body type on the PBX's SIP line; the codecs are not the problem.",
                            body_type_rejected(t)
                        ),
                    )
                } else {
                    (
                        "Second leg failed",
                        "The PBX technician must check the routing of XCC's calls to the user's device at this time.".to_string(),
                    )
                };
                let mut f = second_leg_finding(
                    cx,
                    &INFO,
                    (c, t),
                    title.to_string(),
                    format!(
                        "XCC's second leg ({}) {what}. {advice}",
                        cite(&[t.request_frame]),
                    ),
                    &[],
                );
                f.evidence["content_type"] = json!(t.content_type);
                f.evidence["accept"] = json!(t.final_accept());
                f
            })
            .collect()
    }
}
