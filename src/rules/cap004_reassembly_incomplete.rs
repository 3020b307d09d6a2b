//! CAP004 reassembly-incomplete: lost IP fragments, SCTP chunks or TCP gaps cost SIP data.

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP004",
    slug: "reassembly-incomplete",
    severity: Severity::Warning,
    summary: "IP fragments, SCTP chunks or TCP segments are missing, so some SIP data could not be read",
    doc: RuleDoc {
        what: "Fragmented IP datagrams that never completed, SCTP messages split over chunks of which one never came, holes in TCP streams that never filled, and SIP messages on TCP left unfinished.",
        why: "Large INVITEs (many headers, big SDP) are often fragmented; when a fragment is lost, in the network or by the capture, the INVITE is missing from the analysis, and possibly from the receiver too.",
        fix: "If the capture dropped packets, capture again on a less loaded host or with a larger buffer (`tcpdump -B 8192`). If fragments are lost in the network, switch the trunk to TCP or reduce the INVITE size (fewer codecs, no unneeded headers).",
        example: "2 fragmented IP datagram(s) never completed (first fragment in frame 57)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Capture
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let title = |kind: &str| match kind {
            "ip-fragments-incomplete" => Some("IP fragments missing"),
            "sctp-fragments-incomplete" => Some("SCTP chunks missing"),
            "tcp-gap" => Some("TCP segments missing"),
            "sip-incomplete" => Some("SIP message over TCP left unfinished"),
            _ => None,
        };
        super::followme::anomaly_findings(cx, &INFO, title, "")
    }
}
