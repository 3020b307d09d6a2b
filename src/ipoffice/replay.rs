//! The routing replay over the calls of a capture: every initial INVITE sent to the IP
//! Office, replayed (with a configuration) and set beside what IP Office answered.
//!
//! Input: the calls (`calls` stage), the IP Office's addresses, optionally a [`Config`]
//! and extra busy parties. Output: one [`CallReplay`] per INVITE, in capture order.
//! Invariants: retransmissions and re-INVITEs (a To tag) are not new calls; a routed
//! call holds a session on its appearance or URI from its INVITE until a failure answer,
//! its BYE or CANCEL, so that each replay sees the load IP Office saw; pure.

use std::net::IpAddr;

use serde::Serialize;

use super::config::{Config, Transport};
use super::engine::route;
use super::matching::LocalTime;
use super::trace::{Decision, Entry, InviteFacts, Load, Outcome, SipAddr, host_only};
use crate::calls::{Call, InviteTx};

/// What the capture shows for an INVITE to the IP Office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The final response, else the highest provisional one; `None`: no response at all.
    pub response: Option<u16>,
    /// Its frame.
    pub frame: Option<u64>,
}

impl Observed {
    fn of(t: &InviteTx) -> Observed {
        match (t.final_status, t.final_frame) {
            (Some(s), Some(f)) => Observed {
                response: Some(s),
                frame: Some(f),
            },
            _ => match t.provisional.iter().max_by_key(|p| p.0) {
                Some(&(s, f)) => Observed {
                    response: Some(s),
                    frame: Some(f),
                },
                None => Observed {
                    response: None,
                    frame: None,
                },
            },
        }
    }

    /// Answered busy "at once": a final 486/503 with no ringing before it.
    pub fn busy_at_once(&self, t: &InviteTx) -> bool {
        matches!(self.response, Some(486 | 503)) && t.provisional.iter().all(|p| p.0 == 100)
    }
}

/// One INVITE to the IP Office.
#[derive(Debug, Clone)]
pub struct CallReplay {
    /// Index into the calls, and of the INVITE transaction within the call.
    pub call: usize,
    pub invite: usize,
    pub facts: InviteFacts,
    /// The replay and the local time it used (with a configuration).
    pub decision: Option<(Decision, LocalTime)>,
    pub observed: Observed,
    /// Whether the capture shows what the replay predicts (with a configuration).
    pub agrees: Option<bool>,
}

/// Whether what the capture shows is what the replay predicts: ignored → no response at
/// all; busy → that final code; routed → any answer but an immediate busy code.
pub fn agrees(outcome: &Outcome, seen: Option<u16>) -> bool {
    match (outcome, seen) {
        (Outcome::Ignored, seen) => seen.is_none(),
        (_, None) => false,
        (Outcome::Busy { response }, Some(s)) => s == *response,
        (Outcome::Routed, Some(s)) => !matches!(s, 486 | 503),
    }
}

/// The facts of an INVITE transaction.
pub fn facts(t: &InviteTx) -> InviteFacts {
    let addr = |n: Option<&crate::sip::headers::NameAddr>| {
        n.map(|n| SipAddr {
            user: n.user.clone().unwrap_or_default(),
            host: n.host.as_deref().map(|h| host_only(h).to_string()),
        })
        .unwrap_or_default()
    };
    InviteFacts {
        transport: match t.transport {
            crate::net::Transport::Tcp => Transport::Tcp,
            crate::net::Transport::Tls => Transport::Tls,
            _ => Transport::Udp,
        },
        port: t.dst.port(),
        source: t.src.ip(),
        request_uri: SipAddr::parse(&t.request_uri),
        to: Some(addr(t.to.as_ref())),
        from: addr(t.from.as_ref()),
        // The top Via is the sender's; without it, the source address stands in.
        via_host: Some(t.src.ip().to_string()),
    }
}

/// A place in a run of captures: (file index, frame).
type Moment = (usize, u64);

/// Replays every initial INVITE to `addresses` of `calls`, in capture order.
pub fn replay_calls(
    calls: &[Call],
    addresses: &[IpAddr],
    cfg: Option<&Config>,
    busy: &[String],
) -> Vec<CallReplay> {
    // (file, frame) orders INVITEs and session ends across the captures of a run.
    let key = |c: &Call, frame: u64| (c.first_capture().unwrap_or(0), frame);
    let mut invites: Vec<(usize, usize)> = Vec::new();
    for (ci, c) in calls.iter().enumerate() {
        for (ti, t) in c.invites.iter().enumerate() {
            if addresses.contains(&t.dst.ip()) && t.to.as_ref().is_none_or(|to| to.tag.is_none()) {
                invites.push((ci, ti));
            }
        }
    }
    invites.sort_by_key(|&(ci, ti)| key(&calls[ci], calls[ci].invites[ti].request_frame));
    let mut load = Load::default();
    load.busy.extend(busy.iter().cloned());
    // Sessions held: the entry, and the end of the hold (None while the call lasts).
    let mut held: Vec<((u32, Entry), Option<Moment>)> = Vec::new();
    let mut out = Vec::with_capacity(invites.len());
    for (ci, ti) in invites {
        let (c, t) = (&calls[ci], &calls[ci].invites[ti]);
        let now = key(c, t.request_frame);
        held.retain(|(e, end)| {
            let over = end.is_some_and(|end| end < now);
            if over && let Some(n) = load.in_use.get_mut(e) {
                *n = n.saturating_sub(1);
            }
            !over
        });
        let facts = facts(t);
        let observed = Observed::of(t);
        let decision = cfg.map(|cfg| {
            let at = LocalTime::from_unix(t.request_time.secs, cfg.system.utc_offset);
            let d = route(cfg, &facts, at, &load);
            if let (Outcome::Routed, Some(line)) = (&d.outcome, d.line)
                && let Some(e) = d
                    .appearance
                    .map(Entry::Appearance)
                    .or(d.uri.map(Entry::Uri))
            {
                let e = (line, e);
                *load.in_use.entry(e).or_insert_with(|| base_in_use(cfg, e)) += 1;
                let end = match (t.final_status, t.final_frame) {
                    (Some(s), Some(f)) if s >= 300 => Some(f),
                    _ => c.bye_frame.or(t.cancel_frame),
                };
                held.push((e, end.map(|f| key(c, f))));
            }
            (d, at)
        });
        let agrees = decision
            .as_ref()
            .map(|(d, _)| agrees(&d.outcome, observed.response));
        out.push(CallReplay {
            call: ci,
            invite: ti,
            facts,
            decision,
            observed,
            agrees,
        });
    }
    out
}

/// The sessions an entry has in use before the capture starts (the configuration's).
fn base_in_use(cfg: &Config, (line, e): (u32, Entry)) -> u32 {
    let Some(l) = cfg.lines.iter().find(|l| l.number == line) else {
        return 0;
    };
    match e {
        Entry::Appearance(id) => l
            .appearance
            .iter()
            .find(|a| a.id == id)
            .map_or(0, |a| a.in_use),
        Entry::Uri(id) => l.uri.iter().find(|u| u.id == id).map_or(0, |u| u.in_use),
    }
}

/// IP Office addresses: those given, else the senders whose Server or User-Agent says
/// "IP Office" (on any of their messages), with the reason.
pub fn ipo_addresses(calls: &[Call], given: &[IpAddr]) -> (Vec<IpAddr>, Vec<String>) {
    if !given.is_empty() {
        return (given.to_vec(), vec!["IP Office address(es) given".into()]);
    }
    let mut found: Vec<IpAddr> = Vec::new();
    let mut reasons = Vec::new();
    for c in calls {
        for (a, agent) in &c.agents {
            if names_ip_office(agent) && !found.contains(&a.ip()) {
                found.push(a.ip());
                reasons.push(identified(a.ip(), agent));
            }
        }
    }
    (found, reasons)
}

/// Whether a Server or User-Agent value says "IP Office" (in any case).
pub fn names_ip_office(agent: &str) -> bool {
    (agent.as_bytes().windows(9)).any(|w| w.eq_ignore_ascii_case(b"ip office"))
}

/// Why `ip` is IP Office: its Server or User-Agent `agent` says so.
pub fn identified(ip: IpAddr, agent: &str) -> String {
    format!("{ip} identifies itself as \"{agent}\"")
}
