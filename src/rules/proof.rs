//! The proof a finding rests on, quoted (not a rule itself).
//!
//! Every finding about a call quotes the lines of that call's INVITE transaction it rests
//! on, each with its Wireshark frame: the Diversion / History-Info entries the PBX sent,
//! the final status line, and a response's Warning and Reason headers; codec findings add
//! the offered and answered `m=` lines, caller-number findings the From and
//! P-Asserted-Identity. Quotes are the header values as received (whitespace at the ends
//! trimmed); renderers shorten them in the middle only.

use serde::Serialize;

use crate::calls::{Call, InviteTx};
use crate::sip::headers::NameAddr;
use crate::sip::sdp::Sdp;

use super::{Context, Finding};

/// One quoted line and the frame that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Quote {
    pub frame: u64,
    pub line: String,
}

/// Adds the standard quotes to every finding that names a call and quotes nothing yet.
pub(super) fn quote_findings(cx: &Context<'_>, findings: &mut [Finding]) {
    for f in findings.iter_mut().filter(|f| f.proof.is_empty()) {
        let Some(call) = f.call_id.as_deref().and_then(|id| {
            cx.calls
                .get(cx.legs.position(id)?)
                .filter(|c| c.call_id == id)
        }) else {
            continue;
        };
        let Some(t) = cited_invite(call, &f.frames) else {
            continue;
        };
        f.proof = quotes(t, f.id);
    }
}

/// The INVITE transaction whose request a finding cites, else the call's last one (a
/// retry with credentials replaces the challenged attempt).
fn cited_invite<'c>(c: &'c Call, frames: &[u64]) -> Option<&'c InviteTx> {
    c.invites
        .iter()
        .find(|t| frames.contains(&t.request_frame))
        .or_else(|| c.invites.last())
}

/// `"Anna" <sip:201@pbx>` as the header carried it, as far as the parsed parts tell.
fn name_addr(n: &NameAddr) -> String {
    let mut s = match &n.display {
        Some(d) => format!("\"{d}\" <{}>", n.uri),
        None => format!("<{}>", n.uri),
    };
    if let Some(tag) = &n.tag {
        s.push_str(";tag=");
        s.push_str(tag);
    }
    s
}

/// `m=audio 30010 RTP/AVP 9 111` for each media section of an SDP body.
fn m_lines(sdp: &Sdp) -> Vec<String> {
    sdp.media
        .iter()
        .map(|m| {
            let mut line = format!("m={} {} {}", m.kind, m.port, m.proto);
            for p in &m.payloads {
                line.push(' ');
                line.push_str(&p.pt.to_string());
            }
            line
        })
        .collect()
}

/// The quotes of transaction `t` for a finding of rule `id`.
pub fn quotes(t: &InviteTx, id: &str) -> Vec<Quote> {
    let mut q = Vec::new();
    let mut at = |frame: Option<u64>, line: String| {
        if let Some(frame) = frame {
            q.push(Quote { frame, line });
        }
    };
    let req = Some(t.request_frame);
    if id == "FM008" {
        if let Some(from) = &t.from {
            at(req, format!("From: {}", name_addr(from)));
        }
        for p in &t.p_asserted_identity {
            at(req, format!("P-Asserted-Identity: {}", name_addr(p)));
        }
    }
    for d in &t.diversion {
        at(req, format!("Diversion: {}", d.raw.trim()));
    }
    for h in &t.history_info {
        at(req, format!("History-Info: {}", h.raw.trim()));
    }
    if id == "FM007" {
        for m in t.offer.iter().flat_map(m_lines) {
            at(req, m);
        }
    }
    if let Some(status) = t.final_status {
        let reason = t.final_reason.as_deref().unwrap_or("");
        at(
            t.final_frame,
            format!("SIP/2.0 {status} {reason}").trim_end().to_string(),
        );
    }
    if let Some(w) = t.warning() {
        at(t.final_frame, format!("Warning: {}", w.trim()));
    }
    if let Some(r) = t.reason_header() {
        at(t.final_frame, format!("Reason: {}", r.trim()));
    }
    if id == "FM007" {
        for m in t.answer.iter().flat_map(m_lines) {
            at(t.answer_frame, m);
        }
    }
    q
}
