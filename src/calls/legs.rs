//! Roles (which address is XCC, which are the PBXs; see `roles`) and Follow-Me leg
//! linking.
//!
//! A second leg is XCC's INVITE (new Call-ID) towards the PBX; it is linked to the first
//! leg that caused it: same caller (From user copied from the first leg), starting while
//! that leg is being set up or shortly after.

mod evidence;
mod roles;

use foldhash::HashMap;

use serde::Serialize;

use super::Call;
pub use evidence::{PairLimit, RoleTally};
pub use roles::{Endpoint, KnownXcc, Roles, agent_says_xcc, infer_roles, infer_roles_knowing};

/// First legs started in the same millisecond that [`most_recent`] compares: those of a
/// capture whose clock stands still (every packet stamped alike) all tie, and each second
/// leg would otherwise compare every one of them.
const MAX_TIED: usize = 64;

/// The most recent first leg of `list` (request-time order) still in the linking window
/// of second leg `st`: the latest start, to the millisecond, then the smallest Call-ID
/// (of the last [`MAX_TIED`] started in that millisecond).
/// First legs whose window has passed stay passed (seconds come in time order), so they
/// are dropped from `list` once a search has had to step over many of them.
fn most_recent<'c>(
    list: &mut Vec<usize>,
    firsts: &[(&'c Call, &'c crate::calls::InviteTx)],
    st: &crate::calls::InviteTx,
) -> Option<usize> {
    let passed = |f: usize| {
        firsts[f]
            .1
            .final_time
            .is_some_and(|t| st.request_time.seconds_since(t) > LINK_WINDOW_SECS)
    };
    let mut best: Option<(i64, &'c str, usize)> = None;
    let (mut skipped, mut tied) = (0, 0);
    for &f in list.iter().rev() {
        if passed(f) {
            skipped += 1;
            continue;
        }
        let (call, ft) = firsts[f];
        let ms = (st.request_time.seconds_since(ft.request_time) * 1000.0) as i64;
        tied += 1;
        match best {
            // Earlier entries started earlier still: no tie any more.
            Some((b, _, _)) if ms != b || tied > MAX_TIED => break,
            Some((_, id, _)) if id <= call.call_id.as_str() => {}
            _ => best = Some((ms, call.call_id.as_str(), f)),
        }
    }
    if skipped > 32 && skipped * 2 > list.len() {
        list.retain(|&f| !passed(f));
    }
    best.map(|(_, _, f)| f)
}

/// A call's role in a Follow-Me scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LegKind {
    /// PBX → XCC: the forwarded call.
    First,
    /// XCC → PBX: XCC's call to the user's device.
    Second,
    Other,
}

/// Leg kinds and links between first and second legs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Legs {
    /// Each call's kind and its position in the calls the legs were linked from.
    #[serde(skip)]
    calls: HashMap<String, (LegKind, usize)>,
    /// (first-leg Call-ID, second-leg Call-ID).
    pub links: Vec<(String, String)>,
    /// Positions in `links` of each call's links, by the call's position.
    #[serde(skip)]
    links_of: Vec<Vec<usize>>,
}

impl Legs {
    pub fn kind_of(&self, call_id: &str) -> LegKind {
        self.calls
            .get(call_id)
            .map_or(LegKind::Other, |&(kind, _)| kind)
    }

    /// Where the call with this Call-ID is in the calls the legs were linked from.
    pub fn position(&self, call_id: &str) -> Option<usize> {
        self.calls.get(call_id).map(|&(_, at)| at)
    }

    /// The units of `calls` (those the legs were linked from): the calls linked with each
    /// other, directly or through another leg (a first leg and its second legs). Per
    /// call, the position of its unit's first call.
    pub fn units(&self, calls: &[Call]) -> Vec<usize> {
        let mut unit = vec![usize::MAX; calls.len()];
        for start in 0..calls.len() {
            if unit[start] != usize::MAX {
                continue;
            }
            let mut stack = vec![start];
            unit[start] = start;
            while let Some(i) = stack.pop() {
                for id in self.linked(&calls[i].call_id) {
                    if let Some(j) = self.position(&id).filter(|&j| unit[j] == usize::MAX) {
                        unit[j] = start;
                        stack.push(j);
                    }
                }
            }
        }
        unit
    }

    /// Call-IDs linked to `call_id` (the other leg(s)).
    pub fn linked(&self, call_id: &str) -> Vec<String> {
        let Some(at) = self.position(call_id).and_then(|p| self.links_of.get(p)) else {
            return Vec::new();
        };
        at.iter()
            .map(|&i| &self.links[i])
            .filter_map(|(a, b)| {
                if a == call_id {
                    Some(b.clone())
                } else if b == call_id {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect()
    }
}

/// How long after the first leg's final response a second leg may still start.
const LINK_WINDOW_SECS: f64 = 5.0;

/// Classifies legs and links each second leg to the first leg that caused it.
pub fn link_legs(calls: &[Call], roles: &Roles) -> Legs {
    let mut legs = Legs::default();
    let kinds: Vec<LegKind> = calls
        .iter()
        .map(|c| match c.initial_invite() {
            Some(t) if roles.is_xcc(t.dst) && !roles.is_xcc(t.src) => LegKind::First,
            Some(t) if roles.is_xcc(t.src) && !roles.is_xcc(t.dst) => LegKind::Second,
            _ => LegKind::Other,
        })
        .collect();
    legs.calls.reserve(calls.len());
    for (at, c) in calls.iter().enumerate() {
        legs.calls.insert(c.call_id.clone(), (kinds[at], at));
    }
    // The calls of one kind with their initial INVITE, by position.
    let kinds = &kinds;
    let of_kind = |kind: LegKind| {
        calls
            .iter()
            .enumerate()
            .filter(move |(at, _)| kinds[*at] == kind)
            .filter_map(|(at, c)| Some((at, c, c.initial_invite()?)))
    };
    // Candidates for a second leg: first legs started by 0.5 s after it (or earlier) and
    // not answered or ended more than LINK_WINDOW_SECS before it. A sweep in time order
    // keeps only the first legs in that window, so linking costs the number of calls
    // times the number of concurrent first legs, not calls².
    let mut first_at: Vec<(usize, &Call, &crate::calls::InviteTx)> =
        of_kind(LegKind::First).collect();
    first_at.sort_by_key(|(_, _, t)| t.request_time);
    let firsts: Vec<(&Call, &crate::calls::InviteTx)> =
        first_at.iter().map(|&(_, c, t)| (c, t)).collect();
    let mut seconds: Vec<(usize, usize, &Call, &crate::calls::InviteTx)> = of_kind(LegKind::Second)
        .enumerate()
        .map(|(i, (at, c, t))| (i, at, c, t))
        .collect();
    seconds.sort_by_key(|(_, _, _, t)| t.request_time);
    // (first leg's position, second leg's position), in the order of the second legs.
    let mut links: Vec<Option<(usize, usize)>> = vec![None; seconds.len()];
    // Started first legs, in request-time order: all of them, and by calling user.
    let mut all: Vec<usize> = Vec::new();
    let mut by_caller: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut next = 0;
    for &(i, second_at, _, st) in &seconds {
        while next < firsts.len()
            && st.request_time.seconds_since(firsts[next].1.request_time) >= -0.5
        {
            all.push(next);
            if let Some(user) = firsts[next].1.from.as_ref().and_then(|f| f.user.as_deref()) {
                by_caller.entry(user).or_default().push(next);
            }
            next += 1;
        }
        // Prefer the same caller, then the most recent first leg.
        let caller = st.from.as_ref().and_then(|f| f.user.as_deref());
        let best = caller
            .and_then(|c| by_caller.get_mut(c))
            .and_then(|list| most_recent(list, &firsts, st))
            .or_else(|| most_recent(&mut all, &firsts, st));
        links[i] = best.map(|f| (first_at[f].0, second_at));
    }
    // In the order of the second legs in the capture, as before.
    legs.links_of = vec![Vec::new(); calls.len()];
    for (a, b) in links.into_iter().flatten() {
        let i = legs.links.len();
        legs.links
            .push((calls[a].call_id.clone(), calls[b].call_id.clone()));
        legs.links_of[a].push(i);
        if b != a {
            legs.links_of[b].push(i);
        }
    }
    legs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallSet;
    use crate::capture::Timestamp;
    use crate::net::Transport;
    use crate::sip::message::{Provenance, parse_message};
    use std::net::SocketAddr;

    /// The straightforward O(first legs × second legs) linking, kept as the oracle for
    /// the sweep in [`link_legs`].
    fn link_quadratic(calls: &[Call], legs: &Legs) -> Vec<(String, String)> {
        let firsts: Vec<&Call> = calls
            .iter()
            .filter(|c| legs.kind_of(&c.call_id) == LegKind::First)
            .collect();
        let mut links = Vec::new();
        for second in calls
            .iter()
            .filter(|c| legs.kind_of(&c.call_id) == LegKind::Second)
        {
            let Some(st) = second.initial_invite() else {
                continue;
            };
            let caller = st.from.as_ref().and_then(|f| f.user.clone());
            let best = firsts
                .iter()
                .filter_map(|f| {
                    let ft = f.initial_invite()?;
                    let start = st.request_time.seconds_since(ft.request_time);
                    let end = ft
                        .final_time
                        .map(|t| st.request_time.seconds_since(t))
                        .unwrap_or(f64::NEG_INFINITY);
                    if start < -0.5 || end > LINK_WINDOW_SECS {
                        return None;
                    }
                    let same_caller =
                        caller.is_some() && ft.from.as_ref().and_then(|f| f.user.clone()) == caller;
                    Some((!same_caller, (start * 1000.0) as i64, f.call_id.clone()))
                })
                .min();
            if let Some((_, _, first)) = best {
                links.push((first, second.call_id.clone()));
            }
        }
        links
    }

    fn message(set: &mut CallSet, text: &str, src: &str, dst: &str, millis: i64) {
        let p = Provenance {
            frame: set.calls.len() as u64 + 1,
            frames: Vec::new(),
            time: Timestamp::new(
                1_700_000_000 + millis / 1000,
                (millis % 1000) as u32 * 1_000_000,
            ),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::Udp,
        };
        set.add(parse_message(text.as_bytes(), p, true).unwrap());
    }

    /// Pseudo-random first and second legs (callers, start times, answers, calls still
    /// ringing): the sweep links exactly what the quadratic search links.
    #[test]
    fn sweep_links_like_the_quadratic_search() {
        let (pbx, xcc) = ("10.0.0.1:5060", "10.0.0.2:5060");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..20 {
            let mut set = CallSet::default();
            for i in 0..300 {
                let (src, dst, dir) = if rand(2) == 0 {
                    (pbx, xcc, "a")
                } else {
                    (xcc, pbx, "b")
                };
                let caller = rand(4);
                // Half on whole seconds, so that starts tie to the millisecond; spread
                // over minutes, so that windows pass and the lists are compacted.
                let at = if rand(2) == 0 {
                    rand(200) as i64 * 1000
                } else {
                    rand(200_000) as i64
                };
                let id = format!("{round}-{i}-{dir}");
                message(
                    &mut set,
                    &format!(
                        "INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{id}\r\nFrom: <sip:{caller}@x>;tag=1\r\nTo: <sip:1@x>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\n\r\n"
                    ),
                    src,
                    dst,
                    at,
                );
                if rand(3) > 0 {
                    let answer = at + rand(9_000) as i64;
                    message(
                        &mut set,
                        &format!(
                            "SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{id}\r\nFrom: <sip:{caller}@x>;tag=1\r\nTo: <sip:1@x>;tag=2\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\n\r\n"
                        ),
                        dst,
                        src,
                        answer,
                    );
                }
            }
            let roles = Roles {
                xcc: vec![xcc.parse::<SocketAddr>().unwrap().ip()],
                ..Roles::default()
            };
            let legs = link_legs(&set.calls, &roles);
            assert!(
                legs.links.len() > 5,
                "round {round}: {} links",
                legs.links.len()
            );
            assert_eq!(
                legs.links,
                link_quadratic(&set.calls, &legs),
                "round {round}"
            );
        }
    }

    /// First legs all started in the same millisecond (a capture whose clock stands
    /// still): a second leg compares the last 64 of them, not every one, and takes the
    /// smallest Call-ID among those.
    #[test]
    fn a_second_leg_compares_the_last_64_first_legs_started_in_its_millisecond() {
        let (pbx, xcc) = ("10.0.0.1:5060", "10.0.0.2:5060");
        let invite = |id: &str| {
            format!(
                "INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{id}\r\nFrom: <sip:7@x>;tag=1\r\nTo: <sip:1@x>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\n\r\n"
            )
        };
        let mut set = CallSet::default();
        for i in 0..100 {
            message(&mut set, &invite(&format!("f{i:03}")), pbx, xcc, 0);
        }
        message(&mut set, &invite("s"), xcc, pbx, 0);
        let roles = Roles {
            xcc: vec![xcc.parse::<SocketAddr>().unwrap().ip()],
            ..Roles::default()
        };
        let legs = link_legs(&set.calls, &roles);
        assert_eq!(legs.links, [("f036".to_string(), "s".to_string())]);
    }
}
