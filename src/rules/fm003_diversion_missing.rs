//! FM003 diversion-missing: XCC answered 503 and the INVITE has neither Diversion nor
//! History-Info.

use super::followme::{call_filter, cite, tx_evidence, tx_frames, xcc_503s};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM003",
    slug: "diversion-missing",
    severity: Severity::Error,
    summary: "XCC answered 503 and the forwarded INVITE has neither Diversion nor History-Info",
    doc: RuleDoc {
        what: "An INVITE towards XCC answered 503 Service Unavailable that carries no Diversion and no History-Info header.",
        why: "XCC identifies the Follow-Me user only from the Diversion or History-Info header; without either it cannot know whose call this is and rejects it.",
        fix: "Configure the PBX to send Diversion (or History-Info) on forwarded calls over the SIP trunk to XCC (on IP Office: SIP line → Advanced → 'Send Diversion header' / forwarding via the trunk rather than a plain outgoing call).",
        example: "INVITE sip:8000@xcc (frame 4) without Diversion/History-Info answered 503 (frame 6)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        xcc_503s(cx)
            .into_iter()
            .filter(|(_, t)| t.diversion.is_empty() && t.history_info.is_empty())
            .map(|(c, t)| {
                Finding::new(
                    &INFO,
                    "Forwarded INVITE without Diversion/History-Info",
                    format!(
                        "XCC answered the INVITE ({}, {} → {}) with 503 ({}). The INVITE carries neither Diversion nor History-Info, so XCC cannot tell which user the call was forwarded for. Make the PBX send a Diversion or History-Info header on calls forwarded to XCC.",
                        cite(&[t.request_frame]),
                        t.src,
                        t.dst,
                        cite(&t.final_frame.into_iter().collect::<Vec<_>>())
                    ),
                )
                .call(&c.call_id)
                .frames(tx_frames(t))
                .evidence(tx_evidence(c, t, cx))
                .filter(call_filter(&[&c.call_id]))
            })
            .collect()
    }
}
