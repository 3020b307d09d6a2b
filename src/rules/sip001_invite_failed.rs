//! SIP001 invite-failed: any other INVITE that failed, so nothing is hidden.

use serde_json::json;

use crate::calls::legs::LegKind;

use super::followme::{call_filter, cite, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SIP001",
    slug: "invite-failed",
    severity: Severity::Warning,
    summary: "Another INVITE ended with a failure response",
    doc: RuleDoc {
        what: "Any INVITE with a final 3xx–6xx response that no more specific rule explains (not a first leg answered 503, not a second leg, not a challenge that was answered with credentials).",
        why: "So that no failed call in the capture goes unmentioned: it may be the call the ticket is about, or show a problem elsewhere on the PBX.",
        fix: "Read the status and the frames: 486/600 busy, 480 unavailable, 404 unknown number, 5xx server trouble on the answering side.",
        example: "INVITE sip:201@10.0.0.40 (frame 1) answered 486 Busy Here (frame 3)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in cx.calls {
            let kind = cx.legs.kind_of(&c.call_id);
            if kind == LegKind::Second {
                continue; // FM006–FM009
            }
            if kind == LegKind::First && !cx.legs.linked(&c.call_id).is_empty() {
                continue; // failed because its second leg failed: FM006–FM009 say why
            }
            for (i, t) in c.invites.iter().enumerate() {
                let Some(s) = t.final_status.filter(|s| *s >= 300) else {
                    continue;
                };
                if kind == LegKind::First && s == 503 && cx.roles.is_xcc(&t.dst) {
                    continue; // FM002–FM004
                }
                let retried = c.invites[i + 1..].iter().any(|n| n.has_credentials);
                if matches!(s, 401 | 407) && retried {
                    continue;
                }
                if s == 487 && t.cancel_frame.is_some() {
                    continue; // the caller hung up: normal
                }
                out.push(
                    Finding::new(
                        &INFO,
                        format!("INVITE failed: {s} {}", t.final_reason.clone().unwrap_or_default()),
                        format!(
                            "INVITE {} → {} for {} ({}) was answered {s} {} ({}).",
                            t.src,
                            t.dst,
                            t.to.as_ref().and_then(|x| x.user.clone()).unwrap_or_else(|| t.request_uri.clone()),
                            cite(&[t.request_frame]),
                            t.final_reason.clone().unwrap_or_default(),
                            cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                        ),
                    )
                    .call(&c.call_id)
                    .frames(tx_frames(t))
                    .evidence(json!({"status": s, "reason": t.final_reason, "warning": t.warning, "src": t.src.to_string(), "dst": t.dst.to_string()}))
                    .filter(call_filter(&[&c.call_id])),
                );
            }
        }
        out
    }
}
