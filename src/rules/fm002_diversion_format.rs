//! FM002 diversion-format: XCC answered 503 and the Diversion/History-Info number is not
//! E.164 or internal. Carries the rewrite and the candidate XccDiversionPattern.

use serde_json::json;

use super::diversions::{Kind, Pending};
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
        // The suggestion and the fix are written from every number of the capture
        // (`diversions::complete`).
        bad.into_iter()
            .map(|(c, t, n, lookup)| {
                let header = lookup.header;
                let frames = tx_frames(t);
                let mut ev = tx_evidence(c, t, cx);
                ev["number"] = json!(n);
                ev["header"] = json!(header);
                ev["entry"] = json!(lookup.position);
                ev["entries"] = json!(lookup.entries);
                let before = format!(
                    "XCC answered the forwarded INVITE ({}) with 503 ({}). {}The {header} number {} is {}, which XCC does not recognise (it knows only E.164 +… and internal numbers), so it found no user. ",
                    cite(&[t.request_frame]),
                    cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                    lookup.chain_note(),
                    n.raw,
                    n.format.label(),
                );
                let mut f = Finding::new(
                    &INFO,
                    format!("Forwarded number {} is {}", n.raw, n.format.label()),
                    String::new(),
                )
                .call(&c.call_id)
                .frames(frames)
                .evidence(ev)
                .filter(call_filter(&[&c.call_id]));
                f.pending = Some(Box::new(Pending {
                    kind: Kind::Answered503,
                    place: (c.first_frame, t.request_frame),
                    number: n,
                    before,
                    after: String::new(),
                }));
                f
            })
            .collect()
    }
}
