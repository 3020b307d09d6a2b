//! FM002 diversion-format: XCC answered 503 and the Diversion/History-Info number is not
//! E.164 or internal. Carries the rewrite and the candidate XccDiversionPattern.

use serde_json::json;

use crate::numbers::Classified;
use crate::numbers::pattern::{self, Rewrite};

use super::followme::{
    call_filter, cite, diverting, first_leg_invites, tx_evidence, tx_frames, xcc_503s,
};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "FM002",
    slug: "diversion-format",
    severity: Severity::Error,
    summary: "XCC answered 503 because the Diversion/History-Info number is not E.164 or internal",
    doc: RuleDoc {
        what: "A forwarded INVITE (PBX → XCC) answered 503 Service Unavailable whose Diversion or History-Info number is in a format XCC does not recognise: international with 00, national with 0, international without + or 00 (country code first, e.g. 49301234175), an outside-line prefix, prefix/node digits before the internal number, or a superfluous character such as `+123`. The number judged is the one XCC looks the user up by, the original called party: the last Diversion entry (RFC 5806 lists the newest first, over all header lines), else the History-Info entry with index 1 (RFC 7044 is chronological).",
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
        let mut out = answered_503(cx);
        out.extend(super::fm002_response_missing::check(cx, &INFO));
        out
    }
}

/// FM002 proper: forwarded INVITEs XCC answered 503 whose number it cannot read.
fn answered_503(cx: &Context<'_>) -> Vec<Finding> {
    {
        let bad: Vec<_> = xcc_503s(cx)
            .into_iter()
            .filter_map(|(c, t)| {
                let (n, lookup) = diverting(t, cx)?;
                (!n.format.understood_by_xcc()).then_some((c, t, n, lookup))
            })
            .collect();
        if bad.is_empty() {
            return Vec::new();
        }
        // One suggestion proven on every number XCC looks up in the capture (each distinct
        // number once), the ones it understands included: a rewrite must fix the bad
        // numbers and leave the good ones alone.
        let observed: Vec<Classified> = {
            let mut seen = std::collections::HashSet::new();
            bad.iter()
                .map(|(_, _, n, _)| n.clone())
                .chain(
                    first_leg_invites(cx)
                        .into_iter()
                        .filter_map(|(_, t)| Some(diverting(t, cx)?.0)),
                )
                .filter(|n| seen.insert(n.raw.clone()))
                .collect()
        };
        let (suggestion, normalized) = suggestion(&observed, cx);
        // One suggestion for all: each finding shares it (and prints it in full).
        let suggestion = std::sync::Arc::new(suggestion);
        bad.into_iter()
            .map(|(c, t, n, lookup)| {
                let header = lookup.header;
                let after = normalized.get(&n.raw).cloned().flatten();
                // The number's own rewrite when it has one; another number's rewrite may
                // also reach it (the first that matches applies).
                let fix = match (&after, pattern::rewrite_for(&n, cx.site)) {
                    (Some(a), Some(rw)) => format!(
                        "Make the PBX send {a} instead, or extend XccDiversionPattern with the rewrite {} → {} (turns {} into {a}; candidate value in the suggestion, syntax unverified).",
                        rw.pattern, rw.replace, n.raw
                    ),
                    (Some(a), None) => format!(
                        "Make the PBX send {a} instead, or extend XccDiversionPattern with the suggested rewrites, which turn {} into {a} (candidate value in the suggestion, syntax unverified).",
                        n.raw
                    ),
                    _ => match crate::numbers::unresolved_reason(&n, cx.site) {
                        Some(why) => format!(
                            "Make the PBX send the number as E.164 (+49…) or as the internal number; sipdiag could not derive a rewrite: {why}."
                        ),
                        None => "Make the PBX send the number as E.164 (+49…) or as the internal number; sipdiag could not derive a rewrite with the site facts it has (give --country-code / --internal-length / --outside-prefix).".to_string(),
                    },
                };
                let frames = tx_frames(t);
                let mut ev = tx_evidence(c, t, cx);
                ev["number"] = json!(n);
                ev["header"] = json!(header);
                ev["entry"] = json!(lookup.position);
                ev["entries"] = json!(lookup.entries);
                Finding::new(
                    &INFO,
                    format!("Forwarded number {} is {}", n.raw, n.format.label()),
                    format!(
                        "XCC answered the forwarded INVITE ({}) with 503 ({}). {}The {header} number {} is {}, which XCC does not recognise (it knows only E.164 +… and internal numbers), so it found no user. {fix}",
                        cite(&[t.request_frame]),
                        cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                        lookup.chain_note(),
                        n.raw,
                        n.format.label(),
                    ),
                )
                .call(&c.call_id)
                .frames(frames)
                .evidence(ev)
                .suggestion(std::sync::Arc::clone(&suggestion))
                .filter(call_filter(&[&c.call_id]))
            })
            .collect()
    }
}

/// Numbers listed in a suggestion's `observed`, `normalized` and `proof` arrays; the proof
/// covers every distinct number, the arrays show the first ones (`observed_count` says
/// how many there are), so that a capture with thousands of forwarded numbers does not
/// repeat thousands of entries in every FM002 finding.
const LISTED: usize = 20;

/// The FM002 suggestion object (see the JSON contract in the README), and every distinct
/// observed number's normalised form (`None` when the rewrites do not make it one XCC
/// understands).
pub(super) fn suggestion(
    observed: &[Classified],
    cx: &Context<'_>,
) -> (
    serde_json::Value,
    std::collections::HashMap<String, Option<String>>,
) {
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
    let understood = normalized.iter().filter(|n| n.is_some()).count();
    let listed = raws.len().min(LISTED);
    let value = json!({
        "kind": "xcc_diversion_pattern",
        "observed": raws[..listed],
        "normalized": normalized[..listed],
        "observed_count": raws.len(),
        "understood_count": understood,
        "rewrite": rewrites.first(),
        "rewrites": rewrites,
        "proof": proof[..listed],
        "xcc_diversion_pattern": (!rewrites.is_empty()).then(|| pattern::xcc_diversion_pattern(cx.site.current_pattern.as_deref(), &rewrites)),
        "current_pattern": cx.site.current_pattern,
        "syntax_verified": false,
        "syntax_note": pattern::SYNTAX_CAVEAT,
    });
    (value, raws.into_iter().zip(normalized).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::legs::{Legs, Roles};
    use crate::media::MediaReport;
    use crate::numbers::{Site, classify};

    /// Thousands of distinct forwarded numbers: the proof covers all of them, the arrays
    /// list the first few, and every number still gets its normalised form.
    #[test]
    fn suggestion_proves_every_number_and_lists_a_few() {
        let site = Site {
            country_code: Some("49".into()),
            ..Site::default()
        };
        let (roles, legs, media) = (Roles::default(), Legs::default(), MediaReport::default());
        let cx = Context {
            captures: &[],
            calls: &[],
            roles: &roles,
            legs: &legs,
            site: &site,
            media: &media,
            ipo: &crate::rules::ipo::NO_IPO,
            seen: &Default::default(),
        };
        let observed: Vec<Classified> = (0..3000)
            .map(|n| classify(&format!("0049301{n:05}"), &site))
            .collect();
        let (s, normalized) = suggestion(&observed, &cx);
        assert_eq!(s["observed_count"], 3000);
        assert_eq!(s["understood_count"], 3000);
        assert_eq!(s["observed"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["normalized"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["proof"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["observed"][0], "004930100000");
        assert_eq!(s["normalized"][0], "+4930100000");
        assert_eq!(normalized.len(), 3000);
        assert_eq!(
            normalized.get("004930102999").cloned().flatten().as_deref(),
            Some("+4930102999")
        );
    }
}
