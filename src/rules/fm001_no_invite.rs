//! FM001 no-invite: SIP between PBX and XCC, but no INVITE reached XCC.

use serde_json::json;

use super::compare::XccTraffic;
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
        // The calls given, and those a watch judged before (see `compare`).
        let t = XccTraffic::of(cx).merged(&cx.seen.xcc);
        if t.invites_to_xcc > 0 {
            return Vec::new();
        }
        let (Some(first), Some(last)) = (t.first_frame, t.last_frame) else {
            return Vec::new();
        };
        let methods: Vec<&String> = t.methods.iter().collect();
        let pairs: Vec<&String> = t.pairs.iter().collect();
        let f = Finding::new(
                &INFO,
                "No INVITE reached XCC",
                format!(
                    "{} SIP message(s) ({}) between {} in {}–{}, but no INVITE towards XCC. The PBX did not route the call to XCC: check the PBX's forwarding target / routing towards the XCC trunk and capture again while calling.",
                    t.messages,
                    t.methods.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
                    t.pairs.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
                    cite(&[first]),
                    last,
                ),
            )
            .frames(t.frames())
            .evidence(json!({"methods": methods, "messages": t.messages, "flows": pairs, "xcc_identified": true}))
            .filter(trunk_filter(&t));
        vec![f]
    }
}

/// The cited messages in Wireshark: SIP to or from XCC's addresses (all SIP when none is
/// among them), whatever the method: they are mostly OPTIONS and REGISTER, and the point
/// is that no INVITE is among them.
fn trunk_filter(t: &XccTraffic) -> String {
    if t.xcc_ips.is_empty() {
        return "sip".to_string();
    }
    let addrs: Vec<String> = (t.xcc_ips.iter().copied())
        .map(crate::media::analysis::ip_filter)
        .collect();
    format!("sip && ({})", addrs.join(" || "))
}
