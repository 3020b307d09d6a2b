//! IPO001 ipo-call-ignored: an INVITE to IP Office got no response at all.

use super::followme::{call_filter, cite, tx_frames};
use super::ipo::{evidence, path, predicted, replays, steps};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};
use crate::ipoffice::Outcome;

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "IPO001",
    slug: "ipo-call-ignored",
    severity: Severity::Error,
    summary: "An INVITE to IP Office got no response at all: no SIP line matched it",
    doc: RuleDoc {
        what: "An INVITE sent to an IP Office (known from --ipo, the configuration, or its Server/User-Agent) that got no response, not even 100 Trying. With a configuration (--ipo-config), the replay's line matching says which comparison failed.",
        why: "IP Office ignores a SIP call that matches no SIP line: first the line's transport and listening port, then its Association Method (source address against the ITSP proxy, or a From/To/R-URI host against the ITSP domain) in line number order. The caller retransmits and gives up; nothing appears in IP Office's call logs.",
        fix: "Make a SIP line match the call: a line listening on the transport and port the INVITE was sent to, whose Association Method matches the sender (add the source address to ITSP Proxy Address, or set ITSP Domain Name to the host the provider puts in From/To/R-URI), or change what the caller sends.",
        example: "INVITE 127.0.0.5:5070 → 127.0.0.10:5060 (UDP), frame 1, retransmitted in frame 2, no response; line 17: source-ip source 127.0.0.5 vs itsp_proxy [127.0.0.1]: no-match",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, c, t) in replays(cx) {
            if r.observed.response.is_some() {
                continue;
            }
            let f = &r.facts;
            let why = match &r.decision {
                Some((d, _)) if d.outcome == Outcome::Ignored => format!(
                    " The replay of the configuration agrees: no SIP line matches.{}",
                    steps(d, &["line."])
                ),
                Some((d, _)) => format!(
                    " The configuration predicts {} instead (see IPO004): it is not the one that ran.",
                    predicted(d)
                ),
                None => format!(
                    " IP Office ignores a call no SIP line matches. Check a line listening on {} port {}, and its association method against: source {}, From host `{}`, To host `{}`, R-URI host `{}` (ITSP proxy addresses, ITSP domain).",
                    f.transport,
                    f.port,
                    f.source,
                    f.from.host.as_deref().unwrap_or(""),
                    f.to.as_ref().and_then(|t| t.host.as_deref()).unwrap_or(""),
                    f.request_uri.host.as_deref().unwrap_or(""),
                ),
            };
            out.push(
                Finding::new(
                    &INFO,
                    "INVITE to IP Office ignored",
                    format!(
                        "The INVITE {} for `{}` ({}) got no response at all{}.{why}",
                        path(t),
                        f.request_uri,
                        cite(&[t.request_frame]),
                        if t.retransmissions == 0 {
                            String::new()
                        } else {
                            format!(" ({} retransmission(s))", t.retransmissions)
                        },
                    ),
                )
                .call(&c.call_id)
                .frames(tx_frames(t))
                .evidence(evidence(r, t))
                .filter(call_filter(&[&c.call_id])),
            );
        }
        out
    }
}
