//! FM005 wrong-trunk: INVITEs reach XCC on several trunk endpoints and fail on one.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::json;

use super::followme::{cite, first_leg_invites};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM005",
    slug: "wrong-trunk",
    severity: Severity::Error,
    summary: "INVITEs reach XCC on several trunk endpoints and fail on one of them",
    doc: RuleDoc {
        what: "Forwarded INVITEs arrive at XCC on more than one address/port (several SIP trunks), and those on one endpoint fail while another endpoint works (or all on it fail).",
        why: "With several trunks, a user is configured on one of them; a call the PBX sends over another trunk is rejected even though the number is right.",
        fix: "Route the forwarded calls for these users over the trunk on which they are configured (PBX: outgoing line group / ARS of the forwarding), or configure the users on the trunk the PBX uses.",
        example: "trunk 10.0.0.2:5060: 3 INVITEs answered 200; trunk 10.0.0.2:5070: 2 INVITEs answered 503 (frames 40, 52)",
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
        let mut by_trunk: BTreeMap<SocketAddr, Vec<(&str, &crate::calls::InviteTx)>> =
            BTreeMap::new();
        for (c, t) in first_leg_invites(cx) {
            by_trunk.entry(t.dst).or_default().push((&c.call_id, t));
        }
        if by_trunk.len() < 2 {
            return Vec::new();
        }
        let ok = |t: &crate::calls::InviteTx| t.final_status.is_some_and(|s| s < 300);
        let good: Vec<SocketAddr> = by_trunk
            .iter()
            .filter(|(_, v)| v.iter().any(|(_, t)| ok(t)))
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::new();
        for (trunk, txs) in &by_trunk {
            let failed: Vec<_> = txs.iter().filter(|(_, t)| t.is_failure()).collect();
            if failed.is_empty() || txs.iter().any(|(_, t)| ok(t)) {
                continue;
            }
            let frames: Vec<u64> = failed
                .iter()
                .flat_map(|(_, t)| [t.request_frame].into_iter().chain(t.final_frame))
                .collect();
            let statuses: Vec<String> = failed
                .iter()
                .map(|(_, t)| format!("{}", t.final_status.unwrap_or(0)))
                .collect();
            let others: Vec<String> = by_trunk
                .keys()
                .filter(|k| *k != trunk)
                .map(|k| k.to_string())
                .collect();
            out.push(
                Finding::new(
                    &INFO,
                    format!("Calls fail on trunk {trunk}"),
                    format!(
                        "Forwarded INVITEs reach XCC on {} endpoints. All {} on {trunk} failed ({}; {}) while {} {}. The users are probably configured on the other trunk: route their forwarded calls over {} or configure them on {trunk}.",
                        by_trunk.len(),
                        failed.len(),
                        statuses.join(", "),
                        cite(&frames),
                        others.join(", "),
                        if good.is_empty() { "is used too" } else { "works" },
                        good.first().map(|g| g.to_string()).unwrap_or_else(|| others.join(", ")),
                    ),
                )
                .call(failed[0].0)
                .frames(frames)
                .evidence(json!({
                    "trunks": by_trunk.iter().map(|(k, v)| json!({
                        "endpoint": k.to_string(),
                        "invites": v.len(),
                        "ok": v.iter().filter(|(_, t)| ok(t)).count(),
                        "call_ids": v.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "failing_trunk": trunk.to_string(),
                }))
                // Both directions: the INVITEs go to the trunk, the cited answers come from it.
                .filter(trunk_filter(*trunk)),
            );
        }
        out
    }
}

/// The traffic to and from one XCC trunk endpoint, over UDP or TCP, with explicit
/// parentheses (`&&` binds tighter than `||` in Wireshark, but a reader should not need
/// to know that).
fn trunk_filter(trunk: SocketAddr) -> String {
    let p = trunk.port();
    format!(
        "{} && (udp.port == {p} || tcp.port == {p})",
        crate::media::analysis::ip_filter(trunk.ip())
    )
}
