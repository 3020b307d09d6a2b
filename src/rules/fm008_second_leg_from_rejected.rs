//! FM008 second-leg-from-rejected: the provider/PBX refused XCC's second leg for who is
//! calling: its caller number (CLIP), or its credentials.
//!
//! Input: the second legs of the [`Context`] (the call's last INVITE transaction, earlier
//! ones are the challenged attempts). Output: one finding per refused leg, worded by what
//! the transactions show (RFC 3261 §22.2-§22.3):
//! - 401/407 and no retry: XCC had no credentials for the trunk;
//! - a retry with credentials challenged again: the credentials were wrong;
//! - a retry with credentials answered 403/603: the credentials passed, the caller number
//!   did not; also 403/603 without any challenge.

use serde_json::json;

use crate::calls::{Call, InviteTx};

use super::followme::{answered, cite, second_leg_finding, second_legs, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM008",
    slug: "second-leg-from-rejected",
    severity: Severity::Error,
    summary: "The second leg was refused for its From/CLIP (403/603) or its credentials (401/407 not answered or answered wrongly)",
    doc: RuleDoc {
        what: "XCC's second leg answered 403 Forbidden or 603 Decline (with or without a digest challenge answered before), or challenged with 401/407 and never retried with credentials, or challenged again after XCC's retry with credentials.",
        why: "XCC copies the original caller's number into From on the second leg. A provider accepts only the customer's own numbers as CLIP, so a foreign caller number is refused; when XCC answered a challenge and then got 403, the credentials were accepted and only the number was refused. A challenge XCC never answers (or answers with credentials that are challenged again) means XCC lacks the trunk's user name and password.",
        fix: "For 403/603: in XPhone Connect Advanced Settings set XccLineNumberAsClipFirstLeg = True and XccLineNumberAsClipSecondLeg = True, so XCC presents the line's own number; or allow CLIP no screening on the trunk. For 401/407: enter the trunk's authentication user name and password on XCC's SIP gateway (they must match the PBX's SIP line or the provider's account).",
        example: "INVITE (frame 4) → 407 (frame 6) → INVITE with Proxy-Authorization (frame 8) → 403 Forbidden (frame 10)",
    },
};

/// How the leg's authentication went.
enum Auth<'a> {
    /// No challenge before the final answer.
    None,
    /// The last INVITE was challenged and XCC did not retry.
    NeverAnswered,
    /// XCC retried with credentials after the challenge `challenged`, and the retry was
    /// challenged again.
    Rejected { challenged: &'a InviteTx },
    /// XCC retried with credentials after the challenge and got past it.
    Passed { challenged: &'a InviteTx },
}

fn is_challenge(t: &InviteTx) -> bool {
    matches!(t.final_status, Some(401 | 407))
}

fn auth<'a>(c: &'a Call, last: &InviteTx) -> Auth<'a> {
    let earlier = &c.invites[..c.invites.len().saturating_sub(1)];
    let challenged = earlier.iter().rev().find(|t| is_challenge(t));
    match (is_challenge(last), challenged) {
        (true, Some(ch)) if last.has_credentials => Auth::Rejected { challenged: ch },
        (true, _) => Auth::NeverAnswered,
        (false, Some(ch)) if last.has_credentials => Auth::Passed { challenged: ch },
        (false, _) => Auth::None,
    }
}

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (c, t) in second_legs(cx) {
            if !matches!(t.final_status, Some(403 | 603 | 401 | 407)) {
                continue;
            }
            let from = t
                .from
                .as_ref()
                .and_then(|f| f.user.clone())
                .unwrap_or_else(|| "?".into());
            let clip_fix = "Set XccLineNumberAsClipFirstLeg = True and XccLineNumberAsClipSecondLeg = True in Advanced Settings, so that XCC presents the line's own number.";
            let cred_fix = "Enter the trunk's authentication user name and password on XCC's SIP gateway (they must match the PBX's SIP line or the provider's account).";
            let (kind, title, message, extra) = match auth(c, t) {
                Auth::None => (
                    "clip",
                    format!("Second leg refused for caller number {from}"),
                    format!(
                        "XCC's second leg ({}) with From {from} was {}. The provider does not accept a caller number (CLIP) that is not the customer's. {clip_fix}",
                        cite(&[t.request_frame]),
                        answered(t),
                    ),
                    Vec::new(),
                ),
                Auth::Passed { challenged } => (
                    "clip-after-auth",
                    format!("Second leg refused for caller number {from} after authentication"),
                    format!(
                        "XCC's second leg ({}) was {}; XCC answered the challenge with credentials ({}), so the trunk credentials were accepted, and the retry with From {from} was {}. The provider refused the calling number (CLIP), not the account. {clip_fix}",
                        cite(&[challenged.request_frame]),
                        answered(challenged),
                        cite(&[t.request_frame]),
                        answered(t),
                    ),
                    tx_frames(challenged),
                ),
                Auth::NeverAnswered => (
                    "credentials-missing",
                    "Second leg challenged, XCC sent no credentials".to_string(),
                    format!(
                        "XCC's second leg ({}) was {} and XCC never retried with credentials: most likely it has no user name and password for this trunk. {cred_fix}",
                        cite(&[t.request_frame]),
                        answered(t),
                    ),
                    Vec::new(),
                ),
                Auth::Rejected { challenged } => (
                    "credentials-rejected",
                    "Second leg's credentials rejected".to_string(),
                    format!(
                        "XCC's second leg ({}) was {}; XCC retried with credentials ({}) and was challenged again: {}. The PBX or provider did not accept XCC's user name or password. {cred_fix}",
                        cite(&[challenged.request_frame]),
                        answered(challenged),
                        cite(&[t.request_frame]),
                        answered(t),
                    ),
                    tx_frames(challenged),
                ),
            };
            let mut f = second_leg_finding(cx, &INFO, (c, t), title, message, &extra);
            f.evidence["refusal"] = json!(kind);
            f.evidence["retried_with_credentials"] = json!(t.has_credentials);
            out.push(f);
        }
        out
    }
}
