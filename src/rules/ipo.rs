//! Helpers shared by the IP Office rules IPO001-IPO004 (not a rule itself): the replay
//! of INVITEs to the IP Office that `analyze` hands to the rules, and its wording.

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::calls::{Call, InviteTx};
use crate::ipoffice::replay::CallReplay;
use crate::ipoffice::{Decision, Outcome};

use super::Context;

/// What the IP Office rules look at: its addresses, why they are known, and the replay of
/// each INVITE sent to them (with a decision when a configuration was given).
#[derive(Debug, Default)]
pub struct IpoContext {
    pub addresses: Vec<IpAddr>,
    pub reasons: Vec<String>,
    pub configured: bool,
    pub replays: Vec<CallReplay>,
}

/// No IP Office known: the IPO rules find nothing.
pub static NO_IPO: IpoContext = IpoContext {
    addresses: Vec::new(),
    reasons: Vec::new(),
    configured: false,
    replays: Vec::new(),
};

/// Each replay with its call and INVITE transaction.
pub(super) fn replays<'a>(
    cx: &'a Context<'a>,
) -> impl Iterator<Item = (&'a CallReplay, &'a Call, &'a InviteTx)> {
    cx.ipo.replays.iter().filter_map(|r| {
        let c = cx.calls.get(r.call)?;
        Some((r, c, c.invites.get(r.invite)?))
    })
}

/// `src → dst (transport)`.
pub(super) fn path(t: &InviteTx) -> String {
    format!("{} → {} ({})", t.src, t.dst, t.transport)
}

/// The replay's steps whose name starts with `prefix`, one per line: "compared: result — why".
pub(super) fn steps(d: &Decision, prefixes: &[&str]) -> String {
    d.steps
        .iter()
        .filter(|s| prefixes.iter().any(|p| s.step.starts_with(p)))
        .map(|s| format!("\n  - {}: {} — {}", s.compared, s.result, s.why))
        .collect()
}

/// Evidence common to the IPO findings.
pub(super) fn evidence(r: &CallReplay, t: &InviteTx) -> Value {
    let f = &r.facts;
    json!({
        "invite_frame": t.request_frame,
        "retransmissions": t.retransmission_frames,
        "src": t.src.to_string(),
        "dst": t.dst.to_string(),
        "transport": f.transport,
        "request_uri": f.request_uri.to_string(),
        "from": f.from.to_string(),
        "to": f.to.as_ref().map(ToString::to_string),
        "observed": r.observed,
        "replay": r.decision.as_ref().map(|(d, at)| json!({
            "outcome": d.outcome.name(),
            "response": d.outcome.response(),
            "line": d.line,
            "uri": d.uri,
            "appearance": d.appearance,
            "route": d.route,
            "destination": d.destination,
            "failure": d.failure,
            "local_time": at.to_string(),
            "steps": d.steps,
        })),
        "agrees": r.agrees,
    })
}

/// What the replay predicted, in words.
pub(super) fn predicted(d: &Decision) -> String {
    match &d.outcome {
        Outcome::Ignored => "no response (no line matches)".into(),
        Outcome::Busy { response } => format!("{response} at once"),
        Outcome::Routed => format!(
            "a routed call (to {})",
            d.destination.as_deref().unwrap_or("?")
        ),
    }
}

/// Whether an IPO rule explains this immediate 486/503: IPO002 (no configuration, or the
/// replay ends at the URIs), IPO003 (the replay ends at the routes) or IPO004 (the replay
/// contradicts the capture).
pub(super) fn busy_explained(r: &CallReplay, t: &InviteTx) -> bool {
    use crate::ipoffice::Failure;
    r.observed.busy_at_once(t)
        && match &r.decision {
            None => true,
            Some((d, _)) => {
                matches!(d.failure, Some(Failure::Uri | Failure::Route)) || r.agrees == Some(false)
            }
        }
}
