//! The routing replay over the calls of a capture: every initial INVITE sent to the IP
//! Office, replayed (with a configuration) and set beside what IP Office answered.
//!
//! Input: the calls (`calls` stage), the IP Office's addresses, optionally a [`Config`]
//! and extra busy parties; or ([`Replaying`]) each call as it files a message. Output:
//! one [`CallReplay`] per INVITE, in capture order (of a unit of calls, as it is judged).
//! Invariants: retransmissions and re-INVITEs (a To tag) are not new calls; a routed
//! call holds a session on its appearance or URI from its INVITE until the first of its
//! failure answer, its CANCEL and its BYE, so that each replay sees the load IP Office
//! saw; the replay of whole calls and the one as they come agree; pure.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::calls::retire::Retiring;
use crate::calls::{Call, InviteTx};
use crate::sip::SipMessage;

use super::config::{Config, Transport};
use super::engine::route;
use super::matching::LocalTime;
use super::trace::{Decision, Entry, InviteFacts, Load, Outcome, SipAddr, host_only};

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

/// Replays every initial INVITE to `addresses` of `calls`, in capture order.
pub fn replay_calls(
    calls: &[Call],
    addresses: &[IpAddr],
    cfg: Option<&Config>,
    busy: &[String],
) -> Vec<CallReplay> {
    // Frame numbers order INVITEs and session ends (several files are read merged, their
    // frames numbered through them).
    let mut invites: Vec<(usize, usize)> = Vec::new();
    for (ci, c) in calls.iter().enumerate() {
        for (ti, t) in c.invites.iter().enumerate() {
            if to_ipo(t, addresses) {
                invites.push((ci, ti));
            }
        }
    }
    invites.sort_by_key(|&(ci, ti)| calls[ci].invites[ti].request_frame);
    let mut load = Load::default();
    load.busy.extend(busy.iter().cloned());
    // Sessions held, and when each ends (None while the call lasts).
    let mut held: Vec<(Held, Option<u64>)> = Vec::new();
    let mut out = Vec::with_capacity(invites.len());
    for (ci, ti) in invites {
        let (c, t) = (&calls[ci], &calls[ci].invites[ti]);
        let now = t.request_frame;
        held.retain(|(e, end)| {
            let over = end.is_some_and(|end| end < now);
            if over && let Some(n) = load.in_use.get_mut(e) {
                *n = n.saturating_sub(1);
            }
            !over
        });
        let decision = cfg.map(|cfg| {
            let (decision, session) = decide(cfg, t, &mut load);
            if let Some(e) = session {
                held.push((e, session_end(c, t)));
            }
            decision
        });
        out.push(call_replay(calls, (ci, ti), decision));
    }
    out
}

/// When the session of a routed INVITE `t` of `c` ends: at the first of its failure
/// answer, its CANCEL and the call's BYE (`None`: it lasts as long as the capture).
fn session_end(c: &Call, t: &InviteTx) -> Option<u64> {
    let failed = t.final_status.filter(|s| *s >= 300).and(t.final_frame);
    [failed, t.cancel_frame, c.bye_frame]
        .into_iter()
        .flatten()
        .min()
}

/// Whether `t` is an initial INVITE (no To tag) sent to one of `addresses`.
fn to_ipo(t: &InviteTx, addresses: &[IpAddr]) -> bool {
    addresses.contains(&t.dst.ip()) && t.to.as_ref().is_none_or(|to| to.tag.is_none())
}

/// Routes `t` with `load`; a routed call takes a session on its appearance or URI,
/// which is returned.
fn decide(cfg: &Config, t: &InviteTx, load: &mut Load) -> (Replayed, Option<Held>) {
    let at = LocalTime::from_unix(t.request_time.secs, cfg.system.utc_offset);
    let d = route(cfg, &facts(t), at, load);
    let mut session = None;
    if let (Outcome::Routed, Some(line)) = (&d.outcome, d.line)
        && let Some(e) = (d.appearance.map(Entry::Appearance)).or(d.uri.map(Entry::Uri))
    {
        let e = (line, e);
        *load.in_use.entry(e).or_insert_with(|| base_in_use(cfg, e)) += 1;
        session = Some(e);
    }
    ((d, at), session)
}

/// A session held: the line and its appearance or URI.
type Held = (u32, Entry);

/// An INVITE's replay and the local time it used.
type Replayed = (Decision, LocalTime);

/// A replayed INVITE `ti` of call `ci` of `calls`, with what the capture shows of it.
fn call_replay(calls: &[Call], (ci, ti): (usize, usize), decision: Option<Replayed>) -> CallReplay {
    let t = &calls[ci].invites[ti];
    let observed = Observed::of(t);
    let agrees = (decision.as_ref()).map(|(d, _)| agrees(&d.outcome, observed.response));
    CallReplay {
        call: ci,
        invite: ti,
        facts: facts(t),
        decision,
        observed,
        agrees,
    }
}

/// The replay with a configuration as the calls come, for a reading that lets each call
/// go when it has ended: each initial INVITE to the IP Office is routed when it is seen,
/// with the sessions held at that moment, and a session ends with the message that ends
/// it — what [`replay_calls`] works out from the whole calls, keeping only the calls in
/// progress' sessions and the decisions of the calls not judged yet.
pub struct Replaying {
    cfg: Config,
    addresses: Vec<IpAddr>,
    load: Load,
    /// Per Call-ID of a call in progress: its sessions held (the INVITE's request frame
    /// and the session).
    held: HashMap<String, Vec<(u64, Held)>>,
    /// Per Call-ID of a call not judged yet: its INVITEs' request frames and replays.
    decided: HashMap<String, Vec<(u64, Replayed)>>,
}

impl Replaying {
    /// The replay of the INVITEs sent to `addresses` with `cfg`, `busy` parties besides
    /// its own.
    pub fn new(cfg: Config, addresses: Vec<IpAddr>, busy: &[String]) -> Replaying {
        let mut load = Load::default();
        load.busy.extend(busy.iter().cloned());
        Replaying {
            cfg,
            addresses,
            load,
            held: HashMap::new(),
            decided: HashMap::new(),
        }
    }

    /// Files `m` under its call in `calls` ([`Retiring::add`]) and replays what it brings:
    /// a new INVITE transaction to the IP Office is routed, the sessions it ends let go.
    pub fn add(&mut self, calls: &mut Retiring, m: SipMessage) {
        let invite = (m.method() == Some("INVITE")).then_some(m.frame);
        calls.add(m);
        if let Some(c) = calls.last_filed() {
            self.filed(c, invite);
        }
    }

    /// Call `c` has filed a message; `invite`: its frame, when it was an INVITE request
    /// (a new transaction is routed now). The sessions it ended are let go.
    fn filed(&mut self, c: &Call, invite: Option<u64>) {
        let new = invite.and_then(|f| c.invites.iter().rev().find(|t| t.request_frame == f));
        if let Some(t) = new.filter(|t| to_ipo(t, &self.addresses)) {
            let decided = self.decided.entry(c.call_id.clone()).or_default();
            if !decided.iter().any(|(f, _)| *f == t.request_frame) {
                let (decision, session) = decide(&self.cfg, t, &mut self.load);
                decided.push((t.request_frame, decision));
                if let Some(e) = session {
                    let held = self.held.entry(c.call_id.clone()).or_default();
                    held.push((t.request_frame, e));
                }
            }
        }
        let Some(held) = self.held.get_mut(&c.call_id) else {
            return;
        };
        let load = &mut self.load;
        held.retain(|(f, e)| {
            let t = c.invites.iter().find(|t| t.request_frame == *f);
            let over = t.is_some_and(|t| session_end(c, t).is_some());
            if over && let Some(n) = load.in_use.get_mut(e) {
                *n = n.saturating_sub(1);
            }
            !over
        });
        if held.is_empty() {
            self.held.remove(&c.call_id);
        }
    }

    /// Call `c` has retired: its sessions still held last as long as the capture, as in
    /// [`replay_calls`] (they stay counted, nothing ends them any more).
    pub fn retired(&mut self, c: &Call) {
        self.held.remove(&c.call_id);
    }

    /// Call `c` is let go without being judged: its replays too.
    pub fn forget(&mut self, c: &Call) {
        self.held.remove(&c.call_id);
        self.decided.remove(&c.call_id);
    }

    /// The replays of `calls` (a unit being judged), in capture order, as
    /// [`replay_calls`] gives them; they are no longer kept.
    pub fn replays(&mut self, calls: &[Call]) -> Vec<CallReplay> {
        let mut out = Vec::new();
        for (ci, c) in calls.iter().enumerate() {
            for (frame, decision) in self.decided.remove(&c.call_id).unwrap_or_default() {
                if let Some(ti) = c.invites.iter().position(|t| t.request_frame == frame) {
                    out.push(call_replay(calls, (ci, ti), Some(decision)));
                }
            }
        }
        out.sort_by_key(|r| calls[r.call].invites[r.invite].request_frame);
        out
    }

    /// Calls routed and not judged yet (what the replay keeps).
    pub fn waiting(&self) -> usize {
        self.decided.len()
    }
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
