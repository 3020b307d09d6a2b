//! SIP001 invite-failed: any other INVITE that failed, so nothing is hidden.

use serde_json::json;

use crate::calls::legs::LegKind;

use super::followme::{call_filter, cite, tx_frames};
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SIP001",
    slug: "invite-failed",
    severity: Severity::Warning,
    summary: "Another INVITE ended with a failure response",
    doc: RuleDoc {
        what: "Any INVITE with a final 3xx–6xx response that no more specific rule explains (not a first leg answered 503, not a second leg, not a challenge that was answered with credentials).",
        why: "So that no failed call in the capture goes unmentioned: it may be the call the ticket is about, or show a problem elsewhere on the PBX.",
        fix: "Read the status and the frames: 486/600 busy, 480 unavailable, 404 unknown number, 5xx server trouble on the answering side.",
        example: "INVITE sip:201@10.0.0.40 (frame 1) answered 486 Busy Here (frame 3)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in cx.calls {
            let kind = cx.legs.kind_of(&c.call_id);
            if kind == LegKind::Second {
                continue; // FM006–FM009
            }
            if kind == LegKind::First && !cx.legs.linked(&c.call_id).is_empty() {
                continue; // failed because its second leg failed: FM006–FM009 say why
            }
            for (i, t) in c.invites.iter().enumerate() {
                let Some(s) = t.final_status.filter(|s| *s >= 300) else {
                    continue;
                };
                if kind == LegKind::First && s == 503 && cx.roles.is_xcc(t.dst) {
                    continue; // FM002–FM004
                }
                let retried = c.invites[i + 1..].iter().any(|n| n.has_credentials);
                if matches!(s, 401 | 407) && retried {
                    continue;
                }
                if s == 487 && t.cancel_frame.is_some() {
                    continue; // the caller hung up: normal
                }
                if matches!(s, 486 | 503) && answered_busy_by_ipo(cx, c, i) {
                    continue; // IPO002/IPO003 say why IP Office refused it
                }
                out.push(
                    Finding::new(
                        &INFO,
                        format!("INVITE failed: {s} {}", t.final_reason.clone().unwrap_or_default()),
                        format!(
                            "INVITE {} → {} for {} ({}) was answered {s} {} ({}). {}",
                            t.src,
                            t.dst,
                            t.to.as_ref().and_then(|x| x.user.clone()).unwrap_or_else(|| t.request_uri.clone()),
                            cite(&[t.request_frame]),
                            t.final_reason.clone().unwrap_or_default(),
                            cite(&t.final_frame.into_iter().collect::<Vec<_>>()),
                            meaning(s, t),
                        ),
                    )
                    .call(&c.call_id)
                    .frames(tx_frames(t))
                    .evidence(json!({"status": s, "reason": t.final_reason, "warning": t.warning(), "src": t.src.to_string(), "dst": t.dst.to_string()}))
                    .filter(call_filter(&[&c.call_id])),
                );
            }
        }
        out
    }
}

/// Whether an SDP offers T.38 fax (`m=image … udptl`) and no audio: a fax switched to
/// T.38, whose rejection is not one of voice codecs.
fn offers_t38_only(sdp: &crate::sip::sdp::Sdp) -> bool {
    let active = || sdp.media.iter().filter(|m| m.port != 0);
    active().any(|m| m.kind == "image" && m.proto.eq_ignore_ascii_case("udptl"))
        && !active().any(|m| m.kind == "audio")
}

/// What a failure status usually means, for the message.
fn meaning(status: u16, t: &crate::calls::InviteTx) -> String {
    let codecs = |sdp: Option<&crate::sip::sdp::Sdp>| {
        sdp.map(|s| {
            s.media
                .iter()
                .filter(|m| m.kind == "audio")
                .flat_map(|m| m.codecs())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    match status {
        415 => format!(
            "Body type rejection: {}. Send only the body types the answering side accepts (for a call, a plain application/sdp body).",
            super::followme::body_type_rejected(t)
        ),
        488 | 606 if t.offer.as_ref().is_some_and(offers_t38_only) => format!(
            "Fax rejection: the INVITE offers T.38 fax only (m=image udptl t38) and the answering side does not accept it{}. Enable T.38 on the answering side (the trunk's or gateway's fax setting), or let the fax go as G.711 pass-through so that no T.38 offer is made.",
            t.warning()
                .map(|w| format!(" (Warning: {w})"))
                .unwrap_or_default()
        ),
        488 | 606 => format!(
            "Codec rejection: the answering side accepts none of the offered codecs ({}){}.",
            if t.offer.is_some() {
                codecs(t.offer.as_ref())
            } else {
                "no SDP in the INVITE".into()
            },
            t.warning()
                .map(|w| format!("; Warning: {w}"))
                .unwrap_or_default()
        ),
        401 | 407 => "Authentication challenge that was never answered with credentials.".into(),
        403 | 603 => "Refused by policy (caller not allowed, caller number not accepted).".into(),
        404 | 484 | 485 | 604 => {
            "The called number is unknown or incomplete for the answering side.".into()
        }
        486 | 600 => "The called party is busy.".into(),
        480 | 408 => "The called party is not reachable or did not answer in time.".into(),
        487 => "The INVITE was cancelled.".into(),
        500..=599 => "The answering server had a problem or is unavailable.".into(),
        _ => String::new(),
    }
}

/// Whether IP Office answered this INVITE busy at once (the IPO rules' case).
fn answered_busy_by_ipo(cx: &Context<'_>, c: &crate::calls::Call, i: usize) -> bool {
    cx.ipo.replays.iter().any(|r| {
        cx.calls.get(r.call).is_some_and(|rc| std::ptr::eq(rc, c))
            && r.invite == i
            && super::ipo::busy_explained(r, &c.invites[i])
    })
}
