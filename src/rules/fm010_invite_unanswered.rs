//! FM010 invite-unanswered: an INVITE to XCC got no response at all.

use serde_json::json;

use super::followme::{call_filter, cite, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM010",
    slug: "invite-unanswered",
    severity: Severity::Error,
    summary: "An INVITE to XCC got no response at all (retransmissions only)",
    doc: RuleDoc {
        what: "An INVITE towards XCC without any response, not even 100 Trying, typically with retransmissions.",
        why: "XCC never received the INVITE (firewall, wrong address or port, transport mismatch UDP/TCP) or is not running; the PBX gives up and the caller hears nothing or busy.",
        fix: "Check that XCC listens on the address, port and transport the PBX sends to (SIP gateway settings), that no firewall between PBX and XCC blocks it, and that the XCC service runs.",
        example: "INVITE sip:123@10.0.0.2 (frame 4, retransmitted in 5, 7, 11) without response",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in cx.calls {
            for t in &c.invites {
                if !cx.roles.is_xcc(t.dst) || t.final_status.is_some() || !t.provisional.is_empty()
                {
                    continue;
                }
                let icmp: Vec<u64> = cx
                    .media
                    .icmp
                    .iter()
                    .filter(|e| e.dst == t.dst && e.src == t.src)
                    .map(|e| e.frame)
                    .collect();
                let mut frames = tx_frames(t);
                frames.extend(&icmp);
                out.push(
                    Finding::new(
                        &INFO,
                        "INVITE to XCC unanswered",
                        format!(
                            "The INVITE {} → {} ({}) got no response at all{}{}. XCC did not receive it or is not running: check XCC's listening address/port/transport and the firewall between PBX and XCC.",
                            t.src,
                            t.dst,
                            cite(&[t.request_frame]),
                            if t.retransmissions == 0 {
                                String::new()
                            } else {
                                format!(" ({} retransmission(s))", t.retransmissions)
                            },
                            if icmp.is_empty() {
                                String::new()
                            } else {
                                format!("; ICMP unreachable in {}", cite(&icmp))
                            }
                        ),
                    )
                    .call(&c.call_id)
                    .frames(frames)
                    .evidence(json!({"invite_frame": t.request_frame, "retransmissions": t.retransmission_frames, "src": t.src.to_string(), "dst": t.dst.to_string(), "icmp_frames": icmp}))
                    .filter(call_filter(&[&c.call_id])),
                );
            }
        }
        out
    }
}
