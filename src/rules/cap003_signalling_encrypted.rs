//! CAP003 signalling-encrypted: TLS on a signalling flow.

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP003",
    slug: "signalling-encrypted",
    severity: Severity::Warning,
    summary: "Signalling is encrypted (TLS): nothing of it can be analysed",
    doc: RuleDoc {
        what: "A TCP flow that starts with TLS records on a SIP-TLS port (5061), on the softphone signalling port, or between addresses that also exchange SIP.",
        why: "The SIP messages inside are unreadable, so calls on that flow cannot be checked; a Follow-Me failure there stays invisible.",
        fix: "For the test, switch the SIP trunk between PBX and XCC to TCP or UDP, or capture where the signalling is in clear (after TLS termination).",
        example: "TLS on TCP 10.0.0.5:49822 → 10.0.0.9:5061 (frames 4–80)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let softphone = cx
            .media
            .settings
            .as_ref()
            .map_or(2230, |s| s.softphone_port);
        // Built only when there is TLS to judge: most captures have none.
        let mut sip_hosts: Option<std::collections::HashSet<std::net::IpAddr>> = None;
        let mut out = Vec::new();
        for c in cx.captures {
            for a in c.anomalies.iter().filter(|a| a.kind == "tls") {
                let Some(flow) = &a.flow else { continue };
                let hosts = sip_hosts.get_or_insert_with(|| {
                    cx.calls
                        .iter()
                        .flat_map(|c| c.messages.iter().flat_map(|m| [m.src.ip(), m.dst.ip()]))
                        .collect()
                });
                let signalling = [flow.0.port(), flow.1.port()]
                    .iter()
                    .any(|p| *p == 5061 || *p == softphone)
                    || (hosts.contains(&flow.0.ip()) && hosts.contains(&flow.1.ip()));
                if !signalling {
                    continue;
                }
                out.push(
                    Finding::new(
                        &INFO,
                        "Encrypted signalling",
                        format!(
                            "{}. Calls signalled on this flow cannot be diagnosed; switch the trunk to TCP/UDP for the test or capture after TLS termination.",
                            a.message
                        ),
                    )
                    .capture(&c.path)
                    .frames(a.frames.iter().copied())
                    .evidence(json!({"src": flow.0.to_string(), "dst": flow.1.to_string(), "segments": a.count}))
                    .filter(format!(
                        "tcp.port == {} && tls",
                        if flow.1.port() < flow.0.port() { flow.1.port() } else { flow.0.port() }
                    )),
                );
            }
        }
        out
    }
}
