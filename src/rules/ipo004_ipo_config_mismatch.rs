//! IPO004 ipo-config-mismatch: the capture's answer contradicts the replay of the
//! configuration.

use super::followme::{call_filter, cite, tx_frames};
use super::ipo::{evidence, path, predicted, replays};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "IPO004",
    slug: "ipo-config-mismatch",
    severity: Severity::Warning,
    summary: "IP Office's answer in the capture contradicts the replay of the given configuration",
    doc: RuleDoc {
        what: "Needs --ipo-config. For an INVITE to the IP Office, the replay predicts no response, an immediate 486/503 or a routed call, and the capture shows something else.",
        why: "Then the configuration file is not the configuration that ran (an older export, another system, a line or route changed since), or a session count differs (calls in progress that the capture does not show, in_use or Max Sessions values); every other conclusion drawn from the file is doubtful.",
        fix: "Export the configuration that ran when the capture was taken and compare the lines, URIs and routes the replay used; set in_use for calls that were already up when the capture started.",
        example: "INVITE for support (frame 6): the replay predicts a routed call (to 301), the capture shows 503 in frame 8",
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
            if r.agrees != Some(false) {
                continue;
            }
            let seen = match (r.observed.response, r.observed.frame) {
                (Some(s), Some(f)) => format!("{s} in {}", cite(&[f])),
                _ => "no response at all".to_string(),
            };
            out.push(
                Finding::new(
                    &INFO,
                    "Capture contradicts the IP Office configuration",
                    format!(
                        "The INVITE {} for `{}` ({}): the replay of the configuration predicts {}, the capture shows {seen}. The file is not the configuration that ran, or a session count differs (calls already up, in_use, Max Sessions).",
                        path(t),
                        r.facts.request_uri,
                        cite(&[t.request_frame]),
                        predicted(d),
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
