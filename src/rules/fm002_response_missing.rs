//! Part of FM002 diversion-format: a damaged capture that ends before XCC's answer.
//!
//! Input: first-leg INVITEs to XCC without a final response (nor CANCEL) in a capture that
//! is damaged (truncated, corrupt record, read error). Output: FM002 at warning level when
//! the forwarded number is in a format XCC does not understand — what is visible is still
//! diagnosed, and the message says that the response is not in the capture. A capture that
//! simply ends while XCC has not answered is not damaged and gets nothing here.

use serde_json::json;

use super::diversions::{Kind, Pending};
use super::followme::{call_filter, cite, diverting, first_leg_invites, tx_evidence, tx_frames};
use super::{Context, Finding, RuleInfo, Severity};

/// Anomaly kinds that mean the file lost its end (or a part of it).
const DAMAGE: &[&str] = &["truncated", "corrupt-record", "read-error"];

/// Whether the file of `report` is damaged as this rule reads it: a call of it judged
/// before its report is known must be judged again with it.
pub fn damaged(report: &crate::sip::CaptureReport) -> bool {
    report.anomalies.iter().any(|a| DAMAGE.contains(&a.kind))
}

pub(super) fn check(cx: &Context<'_>, info: &'static RuleInfo) -> Vec<Finding> {
    let bad: Vec<_> = first_leg_invites(cx)
        .into_iter()
        .filter(|(_, t)| t.final_status.is_none() && t.cancel_frame.is_none())
        .filter_map(|(c, t)| {
            // The damage of the file that carried the call (frame numbers are per file).
            let damage = c
                .captures()
                .filter_map(|i| cx.captures.iter().find(|r| r.file == i))
                .flat_map(|r| r.anomalies.iter())
                .find(|a| DAMAGE.contains(&a.kind))?;
            let (n, header) = diverting(t, cx)?;
            (!n.format.understood_by_xcc()).then_some((c, t, n, header, damage))
        })
        .collect();
    if bad.is_empty() {
        return Vec::new();
    }
    // The suggestion and the fix are written from all such numbers
    // (`diversions::complete`).
    bad.into_iter()
        .map(|(c, t, n, header, damage)| {
            let mut ev = tx_evidence(c, t, cx);
            ev["number"] = json!(n);
            ev["header"] = json!(header.header);
            ev["response_in_capture"] = json!(false);
            ev["damage"] = json!({"kind": damage.kind, "frames": damage.frames});
            let before = format!(
                "The forwarded INVITE ({}) names the Follow-Me user by the {} number {}, which is {}: {}XCC does not recognise that format (it knows only E.164 +… and internal numbers), so it would find no user and answer 503. The response is not in the capture: the file is damaged ({}: {}), so what XCC answered cannot be seen. ",
                cite(&[t.request_frame]),
                header.header,
                n.raw,
                n.format.label(),
                header.chain_note(),
                damage.kind,
                damage.message,
            );
            let mut f = Finding::new(
                info,
                format!(
                    "Forwarded number {} is {} (XCC's answer not in the capture)",
                    n.raw,
                    n.format.label()
                ),
                String::new(),
            )
            .call(&c.call_id)
            .frames(tx_frames(t))
            .evidence(ev)
            .filter(call_filter(&[&c.call_id]));
            f.severity = Severity::Warning;
            f.pending = Some(Box::new(Pending {
                kind: Kind::ResponseMissing,
                place: (c.first_frame, t.request_frame),
                number: n,
                before,
                after: " Capture again (tcpdump -s 0, stopped cleanly) to confirm.".into(),
            }));
            f
        })
        .collect()
}
