//! FM002 diversion-format: XCC answered 503 and the Diversion/History-Info number is not
//! E.164 or internal. Carries the rewrite and the candidate XccDiversionPattern.

use serde_json::json;

use crate::numbers::Classified;
use crate::numbers::pattern::{self, Rewrite};

use super::followme::{call_filter, cite, diverting, tx_evidence, tx_frames, xcc_503s};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM002",
    slug: "diversion-format",
    severity: Severity::Error,
    summary: "XCC answered 503 because the Diversion/History-Info number is not E.164 or internal",
    doc: RuleDoc {
        what: "A forwarded INVITE (PBX → XCC) answered 503 Service Unavailable whose Diversion or History-Info number is in a format XCC does not recognise: international with 00, national with 0, an outside-line prefix, prefix/node digits before the internal number, or a superfluous character such as `+123`.",
        why: "XCC finds the Follow-Me user only by an E.164 number (+4930123456) or an internal number of the configured length. Any other format finds nobody, so XCC rejects the call and Follow-Me never rings the mobile.",
        fix: "Best: make the PBX send E.164 or the internal number in Diversion/History-Info. Otherwise extend XccDiversionPattern (XPhone Connect: SIP gateway → Advanced Settings) with the suggested rewrite; sipdiag shows the rewrite as a regular expression, proves it on every observed number, and builds a candidate value (syntax unverified: compare with the current value first). `sipdiag pattern test` tries a rewrite on a capture.",
        example: "Diversion <sip:004930123456@pbx> (frame 4) answered 503 (frame 6): rewrite ^00(\\d+)$ → +$1 gives +4930123456",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let bad: Vec<_> = xcc_503s(cx)
            .into_iter()
            .filter_map(|(c, t)| {
                let (n, header) = diverting(t, cx)?;
                (!n.format.understood_by_xcc()).then_some((c, t, n, header))
            })
            .collect();
        if bad.is_empty() {
            return Vec::new();
        }
        // One suggestion covering every observed number.
        let observed: Vec<Classified> = bad.iter().map(|(_, _, n, _)| n.clone()).collect();
        let suggestion = suggestion(&observed, cx);
        bad.into_iter()
            .map(|(c, t, n, header)| {
                let after = suggestion["normalized"]
                    .as_array()
                    .and_then(|a| {
                        observed
                            .iter()
                            .position(|o| o.raw == n.raw)
                            .and_then(|i| a.get(i))
                    })
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                let fix = match (&after, suggestion["rewrite"].as_object()) {
                    (Some(a), Some(rw)) => format!(
                        "Make the PBX send {a} instead, or extend XccDiversionPattern with the rewrite {} → {} (turns {} into {a}; candidate value in the suggestion, syntax unverified).",
                        rw["match"].as_str().unwrap_or(""),
                        rw["replace"].as_str().unwrap_or(""),
                        n.raw
                    ),
                    _ => "Make the PBX send the number as E.164 (+49…) or as the internal number; sipdiag could not derive a rewrite with the site facts it has (give --country-code / --internal-length / --outside-prefix).".to_string(),
                };
                let frames = tx_frames(t);
                let mut ev = tx_evidence(c, t, cx);
                ev["number"] = json!(n);
                ev["header"] = json!(header);
                Finding::new(
                    &INFO,
                    format!("Forwarded number {} is {}", n.raw, n.format.label()),
                    format!(
                        "XCC answered the forwarded INVITE ({}) with 503 ({}). The {header} number {} is {}, which XCC does not recognise (it knows only E.164 +… and internal numbers), so it found no user. {fix}",
                        cite(&[t.request_frame]),
                        cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                        n.raw,
                        n.format.label(),
                    ),
                )
                .call(&c.call_id)
                .frames(frames)
                .evidence(ev)
                .suggestion(suggestion.clone())
                .filter(call_filter(&[&c.call_id]))
            })
            .collect()
    }
}

/// The FM002 suggestion object (see the JSON contract in the README).
fn suggestion(observed: &[Classified], cx: &Context<'_>) -> serde_json::Value {
    let mut rewrites: Vec<Rewrite> = Vec::new();
    for o in observed {
        if let Some(rw) = pattern::rewrite_for(o, cx.site)
            && !rewrites.contains(&rw)
        {
            rewrites.push(rw);
        }
    }
    let raws: Vec<String> = observed.iter().map(|o| o.raw.clone()).collect();
    let proof = pattern::prove(&rewrites, &raws, cx.site);
    let normalized: Vec<Option<String>> = proof
        .iter()
        .map(|p| p.understood_by_xcc.then(|| p.rewritten.clone()))
        .collect();
    json!({
        "kind": "xcc_diversion_pattern",
        "observed": raws,
        "normalized": normalized,
        "rewrite": rewrites.first(),
        "rewrites": rewrites,
        "proof": proof,
        "xcc_diversion_pattern": (!rewrites.is_empty()).then(|| pattern::xcc_diversion_pattern(cx.site.current_pattern.as_deref(), &rewrites)),
        "current_pattern": cx.site.current_pattern,
        "syntax_verified": false,
        "syntax_note": pattern::SYNTAX_CAVEAT,
    })
}
