//! Part of FM002 diversion-format: a damaged capture that ends before XCC's answer.
//!
//! Input: first-leg INVITEs to XCC without a final response (nor CANCEL) in a capture that
//! is damaged (truncated, corrupt record, read error). Output: FM002 at warning level when
//! the forwarded number is in a format XCC does not understand — what is visible is still
//! diagnosed, and the message says that the response is not in the capture. A capture that
//! simply ends while XCC has not answered is not damaged and gets nothing here.

use serde_json::json;

use crate::numbers::Classified;

use super::followme::{call_filter, cite, diverting, first_leg_invites, tx_evidence, tx_frames};
use super::{Context, Finding, RuleInfo, Severity};

/// Anomaly kinds that mean the file lost its end (or a part of it).
const DAMAGE: &[&str] = &["truncated", "corrupt-record", "read-error"];

pub(super) fn check(cx: &Context<'_>, info: &'static RuleInfo) -> Vec<Finding> {
    let bad: Vec<_> = first_leg_invites(cx)
        .into_iter()
        .filter(|(_, t)| t.final_status.is_none() && t.cancel_frame.is_none())
        .filter_map(|(c, t)| {
            // The damage of the file that carried the call (frame numbers are per file).
            let damage = c
                .captures
                .iter()
                .filter_map(|i| cx.captures.get(*i))
                .flat_map(|r| r.anomalies.iter())
                .find(|a| DAMAGE.contains(&a.kind))?;
            let (n, header) = diverting(t, cx)?;
            (!n.format.understood_by_xcc()).then_some((c, t, n, header, damage))
        })
        .collect();
    if bad.is_empty() {
        return Vec::new();
    }
    let observed: Vec<Classified> = {
        let mut seen = std::collections::HashSet::new();
        bad.iter()
            .map(|(_, _, n, _, _)| n)
            .filter(|n| seen.insert(n.raw.clone()))
            .cloned()
            .collect()
    };
    let (suggestion, normalized) = super::fm002_diversion_format::suggestion(&observed, cx);
    let suggestion = std::sync::Arc::new(suggestion);
    bad.into_iter()
        .map(|(c, t, n, header, damage)| {
            let fix = match normalized.get(&n.raw).cloned().flatten() {
                Some(a) => format!(
                    "Make the PBX send {a} instead, or extend XccDiversionPattern as the suggestion shows (syntax unverified)."
                ),
                None => "Make the PBX send the number as E.164 (+49…) or as the internal number.".to_string(),
            };
            let mut ev = tx_evidence(c, t, cx);
            ev["number"] = json!(n);
            ev["header"] = json!(header.header);
            ev["response_in_capture"] = json!(false);
            ev["damage"] = json!({"kind": damage.kind, "frames": damage.frames});
            let mut f = Finding::new(
                info,
                format!(
                    "Forwarded number {} is {} (XCC's answer not in the capture)",
                    n.raw,
                    n.format.label()
                ),
                format!(
                    "The forwarded INVITE ({}) names the Follow-Me user by the {} number {}, which is {}: {}XCC does not recognise that format (it knows only E.164 +… and internal numbers), so it would find no user and answer 503. The response is not in the capture: the file is damaged ({}: {}), so what XCC answered cannot be seen. {fix} Capture again (tcpdump -s 0, stopped cleanly) to confirm.",
                    cite(&[t.request_frame]),
                    header.header,
                    n.raw,
                    n.format.label(),
                    header.chain_note(),
                    damage.kind,
                    damage.message,
                ),
            )
            .call(&c.call_id)
            .frames(tx_frames(t))
            .evidence(ev)
            .suggestion(std::sync::Arc::clone(&suggestion))
            .filter(call_filter(&[&c.call_id]));
            f.severity = Severity::Warning;
            f
        })
        .collect()
}
