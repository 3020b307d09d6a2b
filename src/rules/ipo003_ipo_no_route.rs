//! IPO003 ipo-no-route: with a configuration, no incoming call route matched the call.

use super::followme::{call_filter, cite, tx_frames};
use super::ipo::{evidence, path, replays, steps};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};
use crate::ipoffice::Failure;

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "IPO003",
    slug: "ipo-no-route",
    severity: Severity::Error,
    summary: "With a configuration: no incoming call route matched the call, so IP Office answered busy",
    doc: RuleDoc {
        what: "Needs --ipo-config. The replay found a SIP line and a SIP URI or line appearance, but no incoming call route with the URI's Incoming Group whose Incoming Number and Incoming CLI match, and (for an Auto URI) the number is no extension; the capture does not contradict it.",
        why: "IP Office then drops the call with the line's Service Busy Response; the caller hears busy although the trunk works.",
        fix: "Add an incoming call route with the URI's Incoming Group as Line Group ID and an Incoming Number that matches the received number (matched from the right; X one digit; a leading - for left-to-right exact length), or a blank one as a catch-all; check the Incoming CLI of the intended route.",
        example: "INVITE for 4930555999 (frame 1) answered 486 in frame 3; routes 2-6 of line group 17: the incoming number differs; 4930555999 is no extension",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, c, t) in replays(cx) {
            let Some((d, _)) = &r.decision else { continue };
            if d.failure != Some(Failure::Route) || r.agrees == Some(false) {
                continue;
            }
            let seen = match (r.observed.response, r.observed.frame) {
                (Some(s), Some(f)) => format!("answered {s} ({})", cite(&[f])),
                _ => "not answered".to_string(),
            };
            out.push(
                Finding::new(
                    &INFO,
                    "No incoming call route matched",
                    format!(
                        "The INVITE {} for `{}` ({}) was {seen}. The replay of the configuration: line {}, {}, then no incoming call route matched.{}",
                        path(t),
                        r.facts.request_uri,
                        cite(&[t.request_frame]),
                        d.line.unwrap_or_default(),
                        match (d.appearance, d.uri) {
                            (Some(a), _) => format!("line appearance {a}"),
                            (_, Some(u)) => format!("SIP URI {u}"),
                            _ => "?".into(),
                        },
                        steps(d, &["route."])
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
