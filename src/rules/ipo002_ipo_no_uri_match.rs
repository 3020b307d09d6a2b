//! IPO002 ipo-no-uri-match: IP Office answered 486/503 at once: no SIP URI or line
//! appearance took the called number, or all were full.

use super::followme::{call_filter, cite, tx_frames};
use super::ipo::{evidence, path, replays, steps};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};
use crate::ipoffice::Failure;

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "IPO002",
    slug: "ipo-no-uri-match",
    severity: Severity::Error,
    summary: "IP Office answered 486/503 at once: no SIP URI or line appearance took the called number, or all were full",
    doc: RuleDoc {
        what: "An INVITE to an IP Office answered 486 Busy Here or 503 Service Unavailable without ringing first. With a configuration (--ipo-config) it fires only when the replay ends at the line's URIs and line appearances, and lists each comparison; without one, on every such answer.",
        why: "Once a SIP line matched, IP Office looks for the called number (Request-URI or To, per the line's Call Routing Method) among the line's SIP Line Appearances, then its SIP URIs in URI order, skipping entries at Max Sessions or Incoming Sessions. None left: it answers the line's Service Busy Response (486, or 503 in some locales) and the call never reaches an incoming call route.",
        fix: "Add a SIP URI whose Local URI is the called number (or Auto / Use Internal Data / *), fix the number the caller sends (or the Call Routing Method), or raise Max Sessions / Incoming Sessions when the entries were full.",
        example: "INVITE for support (frame 6) answered 503 in frame 8; line 18 uri 1 `use-internal-data`: matches but is full: 1 in use ≥ max_sessions 1",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, c, t) in replays(cx) {
            if !r.observed.busy_at_once(t) {
                continue;
            }
            let why = match &r.decision {
                Some((d, _)) if d.failure == Some(Failure::Uri) => format!(
                    " The replay of the configuration agrees: line {} has no free line appearance or SIP URI for the called number.{}",
                    d.line.unwrap_or_default(),
                    steps(d, &["uri."])
                ),
                Some(_) => continue,
                None => " IP Office answers its Service Busy Response when no SIP line appearance or SIP URI of the matched line takes the called number (Request-URI or To, per the line's Call Routing Method), or when all are at Max Sessions / Incoming Sessions. With --ipo-config the replay tells which, or whether no incoming call route matched instead.".to_string(),
            };
            let code = r.observed.response.unwrap_or_default();
            out.push(
                Finding::new(
                    &INFO,
                    format!("IP Office answered {code} at once"),
                    format!(
                        "The INVITE {} for `{}` ({}) was answered {code} ({}) without ringing.{why}",
                        path(t),
                        r.facts.request_uri,
                        cite(&[t.request_frame]),
                        cite(&[r.observed.frame.unwrap_or_default()]),
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
