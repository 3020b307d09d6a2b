//! The evidence [`super::infer_roles`] weighs, gathered a few calls at a time
//! ([`RoleTally`]): what a report of the whole capture says about roles, without keeping
//! the calls.
//!
//! Input: calls, in units of any size and in any order (each call once; a Follow-Me
//! call's two legs in the same unit, as the leg-linking window keeps them). Output: the
//! [`Roles`] `infer_roles` finds on all of them at once.
//!
//! Every piece of evidence is kept with its place in the capture (its call's first frame,
//! then its order in the call), and the report quotes the first ones: so units may come
//! in any order. What is kept is small: one entry per XPhone agent string and address,
//! one per address that behaved as XCC, one per pair of addresses that exchanged INVITEs
//! (up to `--max-address-pairs`, past which [`PairLimit`] counts the INVITEs left out), the SIP methods seen (up to [`MAX_METHODS`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use foldhash::HashMap;

use super::LINK_WINDOW_SECS;
use super::roles::{Endpoint, KnownXcc, NO_XCC, Roles, agent_says_pbx, agent_says_xcc};
use crate::calls::Call;
use crate::capture::Timestamp;

/// Reasons quoted per XCC address.
const MAX_REASONS: usize = 5;

/// How many earlier forwarded INVITEs of the same (receiver, sender, caller) a new INVITE
/// is compared with: enough for any real call rate, and a bound on crafted captures.
const MAX_LOOKBACK: usize = 64;

/// The INVITEs not counted for naming the PBXs because the `--max-address-pairs` cap
/// ([`crate::limits::Limits::address_pairs`]) was reached: a capture of that many peers
/// is not one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairLimit {
    /// The cap in force.
    pub cap: usize,
    /// INVITEs between further pairs, not counted.
    pub count: u64,
    /// The frame of the first of them.
    pub first_frame: u64,
}

/// The `--max-address-pairs` cap in force when a tally was made.
#[derive(Debug, Clone, Copy)]
struct PairCap(usize);

impl Default for PairCap {
    fn default() -> Self {
        PairCap(crate::limits::current().address_pairs)
    }
}

/// SIP methods kept for the sentence about a capture without INVITEs.
pub const MAX_METHODS: usize = 64;

/// Where a piece of evidence stands in the capture: its call's first frame, then its
/// order within the call.
type Place = (u64, u32);

/// A sentence of evidence and its place; the first in the capture is kept.
#[derive(Debug, Clone)]
struct Noted {
    at: Place,
    text: String,
}

fn keep_first(slot: &mut Option<Noted>, at: Place, text: impl FnOnce() -> String) {
    if slot.as_ref().is_none_or(|n| at < n.at) {
        *slot = Some(Noted { at, text: text() });
    }
}

/// INVITEs from one address to another: how many, and the first PBX agent string each
/// way (the request's User-Agent, the response's Server).
#[derive(Debug, Clone, Default)]
struct Pair {
    invites: u32,
    user_agent: Option<Noted>,
    server: Option<Noted>,
}

/// What the calls seen so far show about roles; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct RoleTally {
    /// XPhone agent strings by address, each at the first message that carried it: the
    /// first [`MAX_REASONS`] agents, in capture order.
    named: BTreeMap<IpAddr, Vec<(String, Noted)>>,
    /// The first sign of XCC's Follow-Me behaviour, by address.
    behaves: BTreeMap<IpAddr, Noted>,
    /// INVITEs by (sender, receiver); ports kept only when an `--xcc` endpoint names one.
    pairs: HashMap<(SocketAddr, SocketAddr), Pair>,
    pair_cap: PairCap,
    /// The INVITEs between pairs past the cap.
    pair_limit: Option<PairLimit>,
    with_ports: bool,
    /// INVITEs are not counted by [`RoleTally::add`] ([`RoleTally::without_pairs`]).
    pairs_off: bool,
    calls: u64,
    any_invite: bool,
    messages: u64,
    methods: BTreeSet<String>,
}

impl RoleTally {
    /// A tally for a run given `xcc` (`--xcc`): with a port, INVITEs are told apart by
    /// port as well.
    pub fn new(xcc: &[Endpoint]) -> Self {
        RoleTally {
            with_ports: xcc.iter().any(|e| e.port.is_some()),
            ..RoleTally::default()
        }
    }

    /// [`RoleTally::add`] counts no INVITEs between addresses: the PBXs are named from
    /// those [`RoleTally::add_xcc_invites`] counts once XCC is known (a capture of many
    /// phones has many pairs of addresses, few of them with XCC).
    pub fn without_pairs(&mut self) {
        self.pairs_off = true;
    }

    /// Takes the INVITEs `other` counted by pair of addresses (with
    /// [`RoleTally::add_xcc_invites`]) into a tally that counts none itself
    /// ([`RoleTally::without_pairs`]): the evidence of one tally, the PBXs of the other.
    pub fn take_pairs(&mut self, other: RoleTally) {
        self.pairs = other.pairs;
        self.pair_limit = other.pair_limit;
    }

    /// Adds the evidence of `calls`: each call once, a Follow-Me call's legs together.
    pub fn add(&mut self, calls: &[&Call]) {
        self.add_named(calls);
        self.add_behaviour(calls);
        for c in calls {
            self.calls += 1;
            if !self.pairs_off {
                self.add_invites(c, None);
            }
            self.any_invite |= !c.invites.is_empty();
            self.messages += c.message_count();
            for m in c.messages.iter().filter_map(|m| c.method_of(m)) {
                if self.methods.len() < MAX_METHODS && !self.methods.contains(m) {
                    self.methods.insert(m.to_string());
                }
            }
        }
    }

    /// Agent strings naming XPhone, C4B or XCC, on any message (INVITE, OPTIONS
    /// keep-alive, REGISTER, …): the calls record them by sender. Per address, the
    /// [`MAX_REASONS`] agents that came first are kept, each at its first place.
    fn add_named(&mut self, calls: &[&Call]) {
        for c in calls {
            for (i, (addr, a)) in c.agents.iter().enumerate() {
                if !agent_says_xcc(a) {
                    continue;
                }
                let at = (c.first_frame, i as u32);
                let list = self.named.entry(addr.ip()).or_default();
                match list.iter().position(|(agent, _)| agent == a) {
                    Some(j) if list[j].1.at <= at => continue,
                    Some(j) => {
                        list.remove(j);
                    }
                    None if list.len() >= MAX_REASONS && list.iter().all(|(_, n)| n.at < at) => {
                        continue;
                    }
                    None => {}
                }
                let frame = c
                    .messages
                    .iter()
                    .find(|m| m.src == *addr)
                    .map_or(c.first_frame, |m| m.frame);
                let text = format!(
                    "identifies itself as {a:?} (Call-ID {}, its first message: frame {frame})",
                    c.call_id
                );
                list.push((a.clone(), Noted { at, text }));
                list.sort_by_key(|(_, n)| n.at);
                list.truncate(MAX_REASONS);
            }
        }
    }

    /// XCC's whole Follow-Me behaviour: an address receives a forwarded INVITE and sends a
    /// new INVITE back to the forwarding address for the same caller, starting while the
    /// forwarded one is set up or within the linking window after its answer.
    fn add_behaviour(&mut self, calls: &[&Call]) {
        // Forwarded INVITEs by (receiver, forwarding sender, caller), in capture order.
        let mut forwarded: HashMap<(IpAddr, IpAddr, &str), Vec<Forwarded<'_>>> = HashMap::default();
        for c in calls {
            for t in &c.invites {
                if t.diversion.is_empty() && t.history_info.is_empty() {
                    continue;
                }
                let Some(caller) = t.from.as_ref().and_then(|f| f.user.as_deref()) else {
                    continue;
                };
                forwarded
                    .entry((t.dst.ip(), t.src.ip(), caller))
                    .or_default()
                    .push(Forwarded {
                        start: t.request_time,
                        end: t.final_time,
                        call_id: &c.call_id,
                        frame: t.request_frame,
                    });
            }
        }
        if forwarded.is_empty() {
            return;
        }
        for list in forwarded.values_mut() {
            list.sort_by_key(|f| f.start);
        }
        for c in calls {
            for (i, t) in c.invites.iter().enumerate() {
                let Some(caller) = t.from.as_ref().and_then(|f| f.user.as_deref()) else {
                    continue;
                };
                let (me, peer) = (t.src.ip(), t.dst.ip());
                let at = (c.first_frame, i as u32);
                if me == peer || self.behaves.get(&me).is_some_and(|n| n.at <= at) {
                    continue;
                }
                let Some(list) = forwarded.get(&(me, peer, caller)) else {
                    continue;
                };
                let started =
                    list.partition_point(|f| t.request_time.seconds_since(f.start) >= -0.5);
                let hit = list[..started].iter().rev().take(MAX_LOOKBACK).find(|f| {
                    f.call_id != c.call_id
                        && f.end
                            .is_none_or(|e| t.request_time.seconds_since(e) <= LINK_WINDOW_SECS)
                });
                if let Some(f) = hit {
                    self.behaves.insert(
                        me,
                        Noted {
                            at,
                            text: format!(
                                "receives a forwarded INVITE from {peer} (frame {}) and sends a new INVITE back to it for the same caller {caller:?} (frame {})",
                                f.frame, t.request_frame
                            ),
                        },
                    );
                }
            }
        }
    }

    /// Counts the INVITEs of `calls` to or from XCC (as `xcc` knows it), each call once:
    /// what names the PBXs (see [`RoleTally::without_pairs`]).
    pub fn add_xcc_invites(&mut self, calls: &[Call], xcc: &Roles) {
        for c in calls {
            self.add_invites(c, Some(xcc));
        }
    }

    /// Counts the INVITEs of `c` by pair of addresses (only those to or from XCC, when
    /// `xcc` is given).
    fn add_invites(&mut self, c: &Call, xcc: Option<&Roles>) {
        for (i, t) in c.invites.iter().enumerate() {
            if xcc.is_some_and(|r| !r.is_xcc(t.src) && !r.is_xcc(t.dst)) {
                continue;
            }
            let key = if self.with_ports {
                (SocketAddr::from(t.src), SocketAddr::from(t.dst))
            } else {
                (
                    SocketAddr::new(t.src.ip(), 0),
                    SocketAddr::new(t.dst.ip(), 0),
                )
            };
            if self.pairs.len() >= self.pair_cap.0 && !self.pairs.contains_key(&key) {
                let cap = self.pair_cap.0;
                let l = self.pair_limit.get_or_insert(PairLimit {
                    cap,
                    count: 0,
                    first_frame: u64::MAX,
                });
                l.count += 1;
                l.first_frame = l.first_frame.min(t.request_frame);
                continue;
            }
            let p = self.pairs.entry(key).or_default();
            p.invites += 1;
            let at = (c.first_frame, i as u32);
            if let Some(a) = t.user_agent.as_deref().filter(|a| agent_says_pbx(a)) {
                keep_first(&mut p.user_agent, at, || a.to_string());
            }
            if let Some(a) = t.server.as_deref().filter(|a| agent_says_pbx(a)) {
                keep_first(&mut p.server, at, || a.to_string());
            }
        }
    }

    /// The roles the calls added so far show, honouring `--xcc` / `--pbx` (`xcc`, `pbx`)
    /// and the XCC addresses `known` from elsewhere.
    pub fn roles(&self, xcc: &[Endpoint], pbx: &[Endpoint], known: &KnownXcc) -> Roles {
        let mut r = Roles {
            xcc_endpoints: xcc.to_vec(),
            pbx_endpoints: pbx.to_vec(),
            ..Roles::default()
        };
        if !xcc.is_empty() {
            r.xcc = dedup(xcc.iter().map(|e| e.ip));
            r.reasons.push(format!(
                "XCC given with --xcc: {}",
                xcc.iter().map(show).collect::<Vec<_>>().join(", ")
            ));
        }
        if !pbx.is_empty() {
            r.pbx = dedup(pbx.iter().map(|e| e.ip));
            r.reasons.push(format!(
                "PBX given with --pbx: {}",
                pbx.iter().map(show).collect::<Vec<_>>().join(", ")
            ));
        }
        if r.xcc.is_empty() {
            for (ip, reasons) in self.xcc_reasons() {
                r.xcc.push(ip);
                r.reasons
                    .push(format!("XCC is {ip}: {}", reasons.join("; ")));
            }
            for (ip, why) in &known.0 {
                if !r.xcc.contains(ip) {
                    r.xcc.push(*ip);
                    r.reasons.push(why.clone());
                }
            }
        }
        if r.pbx.is_empty() && !r.xcc.is_empty() {
            self.name_pbxs(&mut r);
            if let Some(l) = self.pair_limit {
                r.reasons.push(format!(
                    "PBXs named from the INVITEs of the first {} pairs of addresses: {} INVITE(s) between further pairs not counted ({} {}), the first in frame {}",
                    l.cap,
                    l.count,
                    crate::limits::Limits::ADDRESS_PAIRS,
                    l.cap,
                    l.first_frame
                ));
            }
        }
        r.pair_limit = self.pair_limit;
        if r.xcc.is_empty() && self.calls > 0 {
            r.reasons.push(NO_XCC.into());
            if let Some(line) = self.no_call_line() {
                r.reasons.push(line);
            }
        }
        r
    }

    /// The addresses with strong evidence of being XCC, in address order, each with its
    /// first reasons: the agent strings first, then the behaviour.
    fn xcc_reasons(&self) -> BTreeMap<IpAddr, Vec<&str>> {
        let ips: BTreeSet<IpAddr> = (self.named.keys().chain(self.behaves.keys()))
            .copied()
            .collect();
        ips.into_iter()
            .map(|ip| {
                let named = self.named.get(&ip).map_or(&[][..], Vec::as_slice);
                let mut reasons: Vec<&str> = named.iter().map(|(_, n)| n.text.as_str()).collect();
                reasons.extend(self.behaves.get(&ip).map(|n| n.text.as_str()));
                reasons.truncate(MAX_REASONS);
                (ip, reasons)
            })
            .collect()
    }

    /// Names every address that sends INVITEs to XCC (or, when none does, every address
    /// XCC sends INVITEs to), most INVITEs first; a PBX agent string is quoted.
    fn name_pbxs(&self, r: &mut Roles) {
        // (INVITEs to XCC, INVITEs from XCC, the first PBX agent string).
        let mut peers: BTreeMap<IpAddr, (u32, u32, Option<&Noted>)> = BTreeMap::new();
        for ((src, dst), p) in &self.pairs {
            let (to_xcc, from_xcc) = (r.is_xcc(*dst), r.is_xcc(*src));
            if to_xcc && !from_xcc {
                let e = peers.entry(src.ip()).or_default();
                e.0 += p.invites;
                e.2 = earlier(e.2, p.user_agent.as_ref());
            } else if from_xcc && !to_xcc {
                let e = peers.entry(dst.ip()).or_default();
                e.1 += p.invites;
                e.2 = earlier(e.2, p.server.as_ref());
            }
        }
        let senders = peers.values().any(|p| p.0 > 0);
        let mut list: Vec<_> = peers
            .into_iter()
            .filter(|(_, p)| if senders { p.0 > 0 } else { p.1 > 0 })
            .collect();
        list.sort_by(|a, b| (b.1.0 + b.1.1).cmp(&(a.1.0 + a.1.1)).then(a.0.cmp(&b.0)));
        for (ip, (n_to, n_from, agent)) in list {
            r.pbx.push(ip);
            let what = if senders {
                format!("sends {n_to} INVITE(s) to XCC")
            } else {
                format!("receives {n_from} INVITE(s) from XCC")
            };
            r.reasons.push(match agent {
                Some(a) => format!("PBX is {ip}: {what}; agent {:?}", a.text),
                None => format!("PBX is {ip}: {what}"),
            });
        }
    }

    /// "the capture holds no call: …" when there is SIP but no INVITE at all.
    fn no_call_line(&self) -> Option<String> {
        if self.any_invite || self.messages == 0 {
            return None;
        }
        Some(format!(
            "the capture holds no call: {} SIP message(s) ({}), no INVITE",
            self.messages,
            if self.methods.is_empty() {
                "responses only".to_string()
            } else {
                self.methods.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        ))
    }
}

/// The one of `a` and `b` noted first.
fn earlier<'n>(a: Option<&'n Noted>, b: Option<&'n Noted>) -> Option<&'n Noted> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// A forwarded INVITE: when it started, when it ended, its Call-ID and frame.
struct Forwarded<'c> {
    start: Timestamp,
    end: Option<Timestamp>,
    call_id: &'c str,
    frame: u64,
}

fn dedup(it: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = it.collect();
    v.sort();
    v.dedup();
    v
}

fn show(e: &Endpoint) -> String {
    match e.port {
        Some(p) => SocketAddr::new(e.ip, p).to_string(),
        None => e.ip.to_string(),
    }
}
