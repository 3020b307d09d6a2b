//! FM004 diversion-user-unknown: XCC answered 503 although the number's format is fine.

use serde_json::json;

use super::followme::{
    call_filter, cite, diverting, tx_evidence, tx_frames, working_trunks, xcc_503s,
};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM004",
    slug: "diversion-user-unknown",
    severity: Severity::Error,
    summary: "XCC answered 503 although the Diversion/History-Info number is E.164 or internal",
    doc: RuleDoc {
        what: "A forwarded INVITE answered 503 whose Diversion/History-Info number is in a format XCC understands. The number judged is the original called party XCC looks up: the last Diversion entry, else the History-Info entry with index 1.",
        why: "Then the number is simply not assigned to any XPhone user, or the call was forwarded twice (user A to Follow-Me user B) and the PBX names A, not B, in the header.",
        fix: "Check in XPhone Connect that the number is a user's phone number (exactly as E.164 or internal). For chained forwarding (A → B → XCC) use prefix forwarding: forward to XccGatewayInPrefix + B's extension.",
        example: "Diversion <sip:+4930999999@pbx> (frame 4) answered 503 (frame 6): no user has +4930999999",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        // Trunk endpoints on which a forwarded call succeeded: a 503 on another endpoint
        // is the wrong trunk (FM005), not an unknown user.
        // (And those earlier calls showed, when only some calls are looked at.)
        let mut working = working_trunks(cx);
        working.extend(&cx.seen.working_trunks);
        xcc_503s(cx)
            .into_iter()
            .filter(|(_, t)| working.is_empty() || working.contains(&t.dst.socket()))
            .filter_map(|(c, t)| {
                let (n, lookup) = diverting(t, cx)?;
                let header = lookup.header;
                if !n.format.understood_by_xcc() {
                    return None;
                }
                let chained = t.diversion.len() > 1
                    || t.diversion
                        .iter()
                        .filter_map(|d| d.counter.as_deref())
                        .any(|c| c.trim() != "1")
                    || t.history_info.len() > 2;
                let known = cx
                    .site
                    .known_users
                    .iter()
                    .any(|u| crate::numbers::clean(u) == n.normalized.clone().unwrap_or_default());
                let mut ev = tx_evidence(c, t, cx);
                ev["number"] = json!(n);
                ev["header"] = json!(header);
                ev["entry"] = json!(lookup.position);
                ev["entries"] = json!(lookup.entries);
                ev["chained_forward"] = json!(chained);
                // The newest Diversion entry names the last forwarding party: with a chain
                // (A → B → XCC) that is the Follow-Me user B whom the PBX did not name as the
                // original called party.
                let newest = (t.diversion.len() > 1)
                    .then(|| t.diversion.first()?.addr.user.clone())
                    .flatten()
                    .filter(|u| *u != lookup.number)
                    .map(|u| format!(" The most recent forwarding party is {u}: if that is the Follow-Me user, XCC cannot find them by this header."))
                    .unwrap_or_default();
                let why = if known {
                    "The number is in the site's list of known users, so check that this user has Follow-Me/AnyDevice enabled in XPhone Connect and that the trunk is the user's (FM005).".to_string()
                } else if chained {
                    format!("The call was forwarded more than once: the PBX names an earlier forwarding party, not the Follow-Me user.{newest} Use prefix forwarding (XccGatewayInPrefix + the user's extension).")
                } else {
                    "The format is fine, so no XPhone user has this number: assign it to the user (exactly as E.164 or internal) in XPhone Connect.".to_string()
                };
                let why = match super::fm012_anydevice_number_length::too_long(c, t, cx) {
                    Some((number, len)) => format!(
                        "{why} First, though, the AnyDevice number {number} is longer than the internal number length {len} (FM012)."
                    ),
                    None => why,
                };
                Some(
                    Finding::new(
                        &INFO,
                        format!("No XPhone user has {}", n.raw),
                        format!(
                            "XCC answered the forwarded INVITE ({}) with 503 ({}) although the {header} number {} is {}. {}{why}",
                            cite(&[t.request_frame]),
                            cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                            n.raw,
                            n.format.label(),
                            lookup.chain_note()
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
