//! FM012 anydevice-number-length: the first leg went to a central AnyDevice number longer
//! than the internal number length, and the call failed at XCC.
//!
//! Input: first-leg INVITE transactions (PBX → XCC) and the site's internal number length
//! (given or inferred from numbers that can be users, never from the AnyDevice number
//! itself). Output: one finding per failed first leg whose Request-URI (else To) user is a
//! short numeric number longer than that length. Invariant: silent when the length is
//! unknown, when XCC placed a second leg (it then found the user), or on chained
//! forwarding, whose hint stays in FM004.

use serde_json::json;

use crate::calls::{Call, InviteTx};

use super::followme::{call_filter, cite, first_leg_invites, tx_evidence, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM012",
    slug: "anydevice-number-length",
    severity: Severity::Warning,
    summary: "The first leg went to an AnyDevice number longer than the internal number length, and XCC rejected it",
    doc: RuleDoc {
        what: "A forwarded INVITE (PBX → XCC) that XCC answered with a failure, without placing a second leg, whose Request-URI (or To) number, the central AnyDevice call-forwarding number, has more digits than the SIP gateway's internal number length (the site's internal_length, or the length inferred from the Diversion/History-Info numbers and second legs).",
        why: "The vendor's Follow-Me checklist requires that the central AnyDevice call-forwarding number is not longer than the internal number length set in the dialling parameters. Severity warning, not error: the checklist states the requirement but not what XCC does when it is broken, and XCC's answer does not say why it refused, so the capture shows a likely cause, not a proven one; the length may also have been inferred rather than given.",
        fix: "Either shorten the central AnyDevice number to at most the internal number length (the PBX's forwarding target and the number configured in XPhone Connect), or raise the internal number length in the SIP gateway's dialling parameters to the AnyDevice number's length (then internal numbers in Diversion/History-Info must have that length too).",
        example: "INVITE sip:8999@xcc (frame 1) answered 503 (frame 3): the AnyDevice number 8999 has 4 digits, the internal number length is 3",
    },
};

/// Longest AnyDevice number considered: an internal-style number, not a full one.
const MAX_EXTRA_DIGITS: usize = 4;

/// The AnyDevice number of first leg `t` and the internal length it exceeds, when the
/// rule applies to `t` (a forwarded first leg XCC refused without a second leg).
pub(super) fn too_long(c: &Call, t: &InviteTx, cx: &Context<'_>) -> Option<(String, usize)> {
    let len = cx.site.internal_length?;
    if !t.is_failure() || !cx.legs.linked(&c.call_id).is_empty() {
        return None;
    }
    // Only a forwarded call reaches XCC through the AnyDevice number; chained forwarding
    // keeps its own hint (FM004).
    let lookup = t.lookup()?;
    if lookup.entries > 1 || t.history_info.len() > 2 {
        return None;
    }
    let number = crate::sip::headers::uri_parts(&t.request_uri)
        .0
        .or_else(|| t.to.as_ref()?.user.clone())?;
    let digits = crate::numbers::clean(&number);
    let internal_style = !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.len() > len
        && digits.len() <= len + MAX_EXTRA_DIGITS;
    (internal_style && digits != crate::numbers::clean(&lookup.number)).then_some((digits, len))
}

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let source = if cx
            .site
            .inferred
            .iter()
            .any(|i| i.starts_with("internal number length"))
        {
            "inferred from the numbers that can be users; give --internal-length to confirm"
        } else {
            "from the site profile"
        };
        first_leg_invites(cx)
            .into_iter()
            .filter_map(|(c, t)| {
                let (number, len) = too_long(c, t, cx)?;
                let mut ev = tx_evidence(c, t, cx);
                ev["anydevice_number"] = json!(number);
                ev["anydevice_length"] = json!(number.len());
                ev["internal_length"] = json!(len);
                Some(
                    Finding::new(
                        &INFO,
                        format!(
                            "AnyDevice number {number} is longer than the internal number length {len}"
                        ),
                        format!(
                            "The PBX forwarded the call to XCC's central AnyDevice number {number} ({}), which has {} digits, but the internal number length is {len} ({source}); XCC {} and placed no second leg. The AnyDevice call-forwarding number must not be longer than the internal number length: shorten it to at most {len} digits (the PBX's forwarding target and XPhone Connect), or raise the internal number length in the SIP gateway's dialling parameters to {}.",
                            cite(&[t.request_frame]),
                            number.len(),
                            super::followme::answered(t),
                            number.len(),
                        ),
                    )
                    .call(&c.call_id)
                    .frames(tx_frames(t))
                    .evidence(ev)
                    .filter(call_filter(&[&c.call_id])),
                )
            })
            .collect()
    }
}
