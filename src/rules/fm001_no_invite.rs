//! FM001 no-invite: SIP between PBX and XCC, but no INVITE reached XCC.

use serde_json::json;

use super::followme::cite;
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM001",
    slug: "no-invite",
    severity: Severity::Error,
    summary: "SIP flows between PBX and XCC (OPTIONS, REGISTER, …) but no INVITE reached XCC",
    doc: RuleDoc {
        what: "The capture shows signalling on the trunk (keep-alive OPTIONS, REGISTER, …) but not a single INVITE towards XCC. It speaks only where XCC is known (`--xcc`, an XPhone agent string, or XCC's Follow-Me behaviour): a capture of REGISTERs or OPTIONS without an XPhone server holds no call to judge.",
        why: "Follow-Me starts with the PBX forwarding the call to XCC. If no INVITE arrives, the PBX never routed the call to XCC, and nothing on the XCC side can be at fault.",
        fix: "Check the PBX: the user's call forwarding / Follow-Me target must route to the SIP trunk towards XCC (on IP Office: the short code or ARS that the forwarding number uses, and the outgoing line group of the XCC trunk). Then reproduce the call while capturing.",
        example: "12 OPTIONS/200 between 10.0.0.1:5060 and 10.0.0.2:5060 (frames 3–90), no INVITE",
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
        // Only where XCC is known: a capture of REGISTERs or a scanner's OPTIONS probe
        // without an XPhone server says nothing about Follow-Me (the report's roles line
        // says that the capture holds no call).
        if !cx.roles.known() {
            return Vec::new();
        }
        let invite_to_xcc = cx
            .calls
            .iter()
            .flat_map(|c| &c.invites)
            .any(|t| cx.roles.is_xcc(&t.dst));
        if invite_to_xcc {
            return Vec::new();
        }
        // The trunk traffic that is there: messages to or from XCC.
        let relevant =
            |m: &crate::calls::MessageRef| cx.roles.is_xcc(&m.src) || cx.roles.is_xcc(&m.dst);
        let msgs: Vec<&crate::calls::MessageRef> = cx
            .calls
            .iter()
            .flat_map(|c| &c.messages)
            .filter(|m| relevant(m))
            .collect();
        if msgs.is_empty() {
            return Vec::new();
        }
        let mut methods: Vec<String> = msgs
            .iter()
            .filter_map(|m| m.method.as_deref().map(str::to_string))
            .collect();
        methods.sort();
        methods.dedup();
        let frames: Vec<u64> = msgs.iter().map(|m| m.frame).collect();
        let mut pairs: Vec<String> = msgs
            .iter()
            .filter(|m| m.method.is_some())
            .map(|m| format!("{} → {}", m.src, m.dst))
            .collect();
        pairs.sort();
        pairs.dedup();
        let first_last = [frames[0], *frames.last().unwrap_or(&frames[0])];
        let f = Finding::new(
                &INFO,
                "No INVITE reached XCC",
                format!(
                    "{} SIP message(s) ({}) between {} in {}–{}, but no INVITE towards XCC. The PBX did not route the call to XCC: check the PBX's forwarding target / routing towards the XCC trunk and capture again while calling.",
                    msgs.len(),
                    methods.join(", "),
                    pairs.join(", "),
                    cite(&first_last[..1]),
                    first_last[1],
                ),
            )
            .frames(frames.iter().copied().take(20))
            .evidence(json!({"methods": methods, "messages": msgs.len(), "flows": pairs, "xcc_identified": true}))
            .filter(trunk_filter(cx, &msgs));
        vec![f]
    }
}

/// The cited messages in Wireshark: SIP to or from XCC's addresses (all SIP when XCC is
/// not known), whatever the method: they are mostly OPTIONS and REGISTER, and the point is
/// that no INVITE is among them.
fn trunk_filter(cx: &Context<'_>, msgs: &[&crate::calls::MessageRef]) -> String {
    let mut ips: Vec<std::net::IpAddr> = msgs
        .iter()
        .flat_map(|m| [m.src, m.dst])
        .filter(|a| cx.roles.known() && cx.roles.is_xcc(a))
        .map(|a| a.ip())
        .collect();
    ips.sort();
    ips.dedup();
    if ips.is_empty() {
        return "sip".to_string();
    }
    let addrs: Vec<String> = ips
        .into_iter()
        .map(crate::media::analysis::ip_filter)
        .collect();
    format!("sip && ({})", addrs.join(" || "))
}
