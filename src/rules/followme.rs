//! Helpers shared by the Follow-Me and capture rules (not a rule itself).

use serde_json::json;

use crate::calls::legs::LegKind;
use crate::calls::{Call, InviteTx, Lookup};
use crate::numbers::{self, Classified};

use super::Context;

/// INVITE transactions of first legs (PBX → XCC), with their call.
pub(super) fn first_leg_invites<'a>(cx: &'a Context<'a>) -> Vec<(&'a Call, &'a InviteTx)> {
    cx.calls
        .iter()
        .filter(|c| cx.legs.kind_of(&c.call_id) == LegKind::First)
        .flat_map(|c| {
            c.invites
                .iter()
                .filter(|t| cx.roles.is_xcc(t.dst))
                .map(move |t| (c, t))
        })
        .collect()
}

/// XCC trunk endpoints on which a forwarded first leg was answered.
pub(super) fn working_trunks(cx: &Context<'_>) -> std::collections::BTreeSet<std::net::SocketAddr> {
    first_leg_invites(cx)
        .iter()
        .filter(|(_, t)| t.final_status.is_some_and(|s| s < 300))
        .map(|(_, t)| t.dst.socket())
        .collect()
}

/// Second legs (XCC → PBX): the call and its last INVITE transaction (a retry after a
/// challenge replaces the first attempt).
pub(super) fn second_legs<'a>(cx: &'a Context<'a>) -> Vec<(&'a Call, &'a InviteTx)> {
    cx.calls
        .iter()
        .filter(|c| cx.legs.kind_of(&c.call_id) == LegKind::Second)
        .filter_map(|c| c.invites.last().map(|t| (c, t)))
        .collect()
}

/// How a second leg that rang ended without being answered (FM011): the first ringing
/// response (180/183), the message that ended it (XCC's CANCEL, else the final response)
/// and how long it rang, in seconds of capture time.
pub(super) struct Unanswered {
    pub ringing_status: u16,
    pub ringing_frame: u64,
    pub end_frame: u64,
    pub ring_seconds: Option<f64>,
}

/// A leg that rang and then ended without an answer: XCC cancelled it (RFC 3261 §9: the
/// 487 follows the CANCEL), or the far end's no-answer timer ended it with 408 Request
/// Timeout, 480 Temporarily Unavailable or 487. Rejections after ringing (486, 603, …)
/// are refusals, not "nobody answered", and stay with FM006–FM009.
pub(super) fn rang_unanswered(c: &Call, t: &InviteTx) -> Option<Unanswered> {
    // 180 says the device rang; a 183 alone only that the far end progressed the call.
    let progress = |status: u16| t.provisional.iter().find(|(s, _)| *s == status);
    let &(ringing_status, ringing_frame) = progress(180).or_else(|| progress(183))?;
    let end_frame = match (t.cancel_frame, t.final_status) {
        (Some(cf), None | Some(487)) => cf,
        (None, Some(408 | 480 | 487)) => t.final_frame?,
        _ => return None,
    };
    let time = |frame: u64| c.messages.iter().find(|m| m.frame == frame).map(|m| m.time);
    let ring_seconds = match (time(ringing_frame), time(end_frame)) {
        (Some(a), Some(b)) if b >= a => Some(b.seconds_since(a)),
        _ => None,
    };
    Some(Unanswered {
        ringing_status,
        ringing_frame,
        end_frame,
        ring_seconds,
    })
}

/// What a 415 Unsupported Media Type says: the far end does not take the request's body
/// type (RFC 3261 §21.4.13), which is not a codec rejection; quotes the request's
/// Content-Type and the response's Accept, which lists the types it does take.
pub(super) fn body_type_rejected(t: &InviteTx) -> String {
    let offered = match &t.content_type {
        Some(ct) => format!(
            "the INVITE's body is Content-Type: {ct} ({})",
            cite(&[t.request_frame])
        ),
        None => format!(
            "the INVITE ({}) has no Content-Type",
            cite(&[t.request_frame])
        ),
    };
    let wanted = match t.final_accept() {
        Some(a) => format!(
            "the answer says Accept: {a} ({})",
            cite(&t.final_frame.into_iter().collect::<Vec<_>>())
        ),
        None => "the answer names no Accept header".to_string(),
    };
    format!("415 rejects the type of the message body, not its codecs: {offered} and {wanted}")
}

/// First-leg INVITEs XCC answered 503.
pub(super) fn xcc_503s<'a>(cx: &'a Context<'a>) -> Vec<(&'a Call, &'a InviteTx)> {
    first_leg_invites(cx)
        .into_iter()
        .filter(|(_, t)| t.final_status == Some(503))
        .collect()
}

/// The forwarding entry XCC looks the user up by (the original called party, see
/// [`InviteTx::lookup`]), classified.
pub(super) fn diverting(t: &InviteTx, cx: &Context<'_>) -> Option<(Classified, Lookup)> {
    let l = t.lookup()?;
    Some((numbers::classify(&l.number, cx.site), l))
}

/// Frames of a transaction: request, retransmissions, responses, ACK/CANCEL.
pub(super) fn tx_frames(t: &InviteTx) -> Vec<u64> {
    let mut f = vec![t.request_frame];
    f.extend(&t.retransmission_frames);
    f.extend(t.provisional.iter().map(|(_, fr)| *fr));
    f.extend(t.final_frame);
    f.extend(t.ack_frame);
    f.extend(t.cancel_frame);
    f
}

/// Evidence common to INVITE findings.
pub(super) fn tx_evidence(c: &Call, t: &InviteTx, cx: &Context<'_>) -> serde_json::Value {
    json!({
        "invite_frame": t.request_frame,
        "src": t.src.to_string(),
        "dst": t.dst.to_string(),
        "request_uri": t.request_uri,
        "from": t.from.as_ref().map(|f| f.uri.clone()),
        "to": t.to.as_ref().map(|f| f.uri.clone()),
        "diversion": t.diversion.iter().map(|d| d.raw.clone()).collect::<Vec<_>>(),
        "history_info": t.history_info.iter().map(|h| h.raw.clone()).collect::<Vec<_>>(),
        "forwarding": t.forwarding(),
        "final_status": t.final_status,
        "final_reason": t.final_reason,
        "final_frame": t.final_frame,
        "warning": t.warning(),
        "reason_header": t.reason_header(),
        "linked_call_ids": cx.legs.linked(&c.call_id),
    })
}

/// `sip.Call-ID == "…"` (one Call-ID) or `sip.Call-ID in {"…", "…"}` for a Wireshark
/// filter; a set needs no parentheses when the filter is combined with others.
pub(super) fn call_filter(call_ids: &[&str]) -> String {
    let quoted: Vec<String> = call_ids.iter().map(|c| super::quote(c)).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!("sip.Call-ID == {one}"),
        many => format!("sip.Call-ID in {{{}}}", many.join(", ")),
    }
}

/// "frame N" / "frames N, M".
pub(super) fn cite(frames: &[u64]) -> String {
    match frames {
        [] => "no frame".into(),
        [one] => format!("frame {one}"),
        many => format!(
            "frames {}",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The first leg linked to a second leg, for messages.
pub(super) fn linked_first<'a>(cx: &'a Context<'a>, second: &Call) -> Option<&'a Call> {
    let id = cx.legs.linked(&second.call_id).into_iter().next()?;
    cx.calls
        .get(cx.legs.position(&id)?)
        .filter(|c| c.call_id == id)
}

/// One finding per capture anomaly whose kind `title` names (`None` = not this rule's).
pub(super) fn anomaly_findings(
    cx: &Context<'_>,
    rule: &super::RuleInfo,
    title: impl Fn(&str) -> Option<&'static str>,
    advice: &str,
) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for c in cx.captures {
        for a in &c.anomalies {
            let Some(t) = title(a.kind) else { continue };
            out.push(
                super::Finding::new(rule, t, format!("{}: {}.{advice}", c.path, a.message))
                    .capture(&c.path)
                    .frames(a.frames.iter().copied())
                    .evidence(json!({"capture": c.path, "anomaly": a.kind, "count": a.count})),
            );
        }
    }
    out
}

/// "answered 404 Not Found (frame 6)".
pub(super) fn answered(t: &InviteTx) -> String {
    format!(
        "answered {} {} ({})",
        t.final_status.unwrap_or(0),
        t.final_reason.as_deref().unwrap_or(""),
        cite(&t.final_frame.into_iter().collect::<Vec<_>>())
    )
}

/// A finding about XCC's second leg `t` of call `c`: cites the leg's transaction plus
/// `extra` frames and the linked first leg's INVITE and final answer, and filters on both
/// Call-IDs so Wireshark shows the two legs together.
pub(super) fn second_leg_finding(
    cx: &Context<'_>,
    rule: &super::RuleInfo,
    (c, t): (&Call, &InviteTx),
    title: String,
    message: String,
    extra: &[u64],
) -> super::Finding {
    let first = linked_first(cx, c);
    let mut frames = tx_frames(t);
    frames.extend(extra);
    if let Some(f) = first.and_then(|f| f.initial_invite()) {
        frames.push(f.request_frame);
        frames.extend(f.final_frame);
    }
    let ids: Vec<&str> = std::iter::once(c.call_id.as_str())
        .chain(first.map(|f| f.call_id.as_str()))
        .collect();
    super::Finding::new(rule, title, message)
        .call(&c.call_id)
        .frames(frames)
        .evidence(tx_evidence(c, t, cx))
        .filter(call_filter(&ids))
}
