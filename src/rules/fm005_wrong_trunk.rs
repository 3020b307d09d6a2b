//! FM005 wrong-trunk: INVITEs reach XCC on several trunk endpoints and fail on one.

use std::net::SocketAddr;

use serde_json::json;

use super::compare::TrunkInvites;
use super::followme::cite;
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
        // The calls given, and those a watch judged before (see `compare`).
        let by_trunk = TrunkInvites::of(cx).merged(&cx.seen.trunks).by_trunk;
        if by_trunk.len() < 2 {
            return Vec::new();
        }
        let good: Vec<SocketAddr> = (by_trunk.iter())
            .filter(|(_, v)| v.ok > 0)
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::new();
        for (trunk, tally) in &by_trunk {
            let failed = &tally.failed;
            if failed.is_empty() || tally.ok > 0 {
                continue;
            }
            let frames: Vec<u64> = (failed.iter())
                .flat_map(|t| [t.request_frame].into_iter().chain(t.final_frame))
                .collect();
            let statuses: Vec<String> = failed.iter().map(|t| t.status.to_string()).collect();
            let others: Vec<String> = (by_trunk.keys())
                .filter(|k| *k != trunk)
                .map(|k| k.to_string())
                .collect();
            let mut f = Finding::new(
                    &INFO,
                    format!("Calls fail on trunk {trunk}"),
                    format!(
                        "Forwarded INVITEs reach XCC on {} endpoints. All {} on {trunk} failed ({}; {}) while {} {}. The users are probably configured on the other trunk: route their forwarded calls over {} or configure them on {trunk}.",
                        by_trunk.len(),
                        failed.len() as u64 + tally.failed_uncounted,
                        statuses.join(", "),
                        cite(&frames),
                        others.join(", "),
                        if good.is_empty() { "is used too" } else { "works" },
                        good.first().map(|g| g.to_string()).unwrap_or_else(|| others.join(", ")),
                    ),
                )
                .call(&failed[0].call_id)
                .frames(frames)
                .evidence(json!({
                    "trunks": by_trunk.iter().map(|(k, v)| json!({
                        "endpoint": k.to_string(),
                        "invites": v.invites,
                        "ok": v.ok,
                        "call_ids": v.call_ids.iter().map(|(_, id)| id).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "failing_trunk": trunk.to_string(),
                }))
                // Both directions: the INVITEs go to the trunk, the cited answers come from it.
                .filter(trunk_filter(*trunk));
            // The first failed INVITE's lines (its call may be gone: see `compare`).
            f.proof = failed[0].proof.clone();
            out.push(f);
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
