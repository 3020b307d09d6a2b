//! What the rules that compare calls (FM001, FM004, FM005) read, as digests of the calls
//! rather than the calls: built from a context's calls, and added up over the units that
//! `sipdiag watch` judges one by one ([`Seen`]), so that a watch can apply them at the
//! end without keeping a call. Not a rule itself.
//!
//! Input: a [`Context`]. Output: [`TrunkInvites`] (forwarded first legs by XCC trunk
//! endpoint), [`XccTraffic`] (the SIP to and from XCC), and [`Seen`], their sum.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use super::Context;
use super::followme::{first_leg_invites, working_trunks};

/// Entries a digest added up by `watch` keeps per list (counts go on).
const KEEP: usize = 1000;

/// What calls judged earlier showed that a rule compares with: kept by `sipdiag watch`,
/// which judges a few calls at a time, instead of the calls themselves. Small: a few
/// addresses and at most `KEEP` entries per list.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// XCC trunk endpoints on which a forwarded first leg was answered (FM004 tells an
    /// unknown user from a wrong trunk by them).
    pub working_trunks: BTreeSet<SocketAddr>,
    /// The forwarded first legs judged so far (FM005).
    pub trunks: TrunkInvites,
    /// The SIP to and from XCC judged so far (FM001).
    pub xcc: XccTraffic,
}

impl Seen {
    /// Adds what the calls of `cx` show that holds whatever else is seen (the trunks that
    /// work): may be called again with the same calls.
    pub fn learn(&mut self, cx: &Context<'_>) {
        self.working_trunks.extend(working_trunks(cx));
    }

    /// The digests of the calls of `cx`, to [`Seen::add`] once per call, when it is
    /// judged.
    pub fn of(cx: &Context<'_>) -> Self {
        Seen {
            working_trunks: BTreeSet::new(),
            trunks: TrunkInvites::of(cx),
            xcc: XccTraffic::of(cx),
        }
    }

    /// Adds `other` (calls judged after these).
    pub fn add(&mut self, other: &Seen) {
        self.working_trunks.extend(&other.working_trunks);
        self.trunks.add(&other.trunks, KEEP);
        self.xcc.add(&other.xcc, KEEP);
    }
}

/// Where an INVITE stands in the capture: its call's first frame, then its own.
pub type Place = (u64, u64);

/// One forwarded first-leg INVITE that failed.
#[derive(Debug, Clone)]
pub struct FailedInvite {
    pub place: Place,
    pub call_id: String,
    pub request_frame: u64,
    pub status: u16,
    pub final_frame: Option<u64>,
    /// The lines a finding on it quotes (its call may be gone by then).
    pub proof: Vec<super::proof::Quote>,
}

/// The forwarded first legs sent to one XCC trunk endpoint.
#[derive(Debug, Clone, Default)]
pub struct TrunkTally {
    pub invites: u64,
    /// Answered 2xx.
    pub ok: u64,
    pub failed: Vec<FailedInvite>,
    /// Failed ones not in `failed` (over the cap of a watch).
    pub failed_uncounted: u64,
    /// The Call-IDs of the INVITEs, each at its place.
    pub call_ids: Vec<(Place, String)>,
}

/// Forwarded first legs (PBX → XCC) by the XCC trunk endpoint they were sent to.
#[derive(Debug, Clone, Default)]
pub struct TrunkInvites {
    pub by_trunk: BTreeMap<SocketAddr, TrunkTally>,
}

impl TrunkInvites {
    pub fn of(cx: &Context<'_>) -> Self {
        let mut out = TrunkInvites::default();
        for (c, t) in first_leg_invites(cx) {
            let e = out.by_trunk.entry(t.dst.socket()).or_default();
            let place = (c.first_frame, t.request_frame);
            e.invites += 1;
            e.call_ids.push((place, c.call_id.clone()));
            match t.final_status {
                Some(s) if s < 300 => e.ok += 1,
                Some(status) => e.failed.push(FailedInvite {
                    place,
                    call_id: c.call_id.clone(),
                    request_frame: t.request_frame,
                    status,
                    final_frame: t.final_frame,
                    proof: super::proof::quotes(t, "FM005"),
                }),
                None => {}
            }
        }
        out
    }

    /// Adds `other` (calls from anywhere in the capture), keeping per endpoint the first
    /// `keep` failed INVITEs and Call-IDs in capture order, and `keep` endpoints.
    pub fn add(&mut self, other: &TrunkInvites, keep: usize) {
        for (trunk, o) in &other.by_trunk {
            if !self.by_trunk.contains_key(trunk) && self.by_trunk.len() >= keep {
                continue;
            }
            let e = self.by_trunk.entry(*trunk).or_default();
            e.invites += o.invites;
            e.ok += o.ok;
            e.failed_uncounted += o.failed_uncounted;
            if !o.failed.is_empty() {
                e.failed.extend(o.failed.iter().cloned());
                e.failed.sort_by_key(|f| f.place);
                let over = e.failed.len().saturating_sub(keep);
                e.failed.truncate(keep);
                e.failed_uncounted += over as u64;
            }
            if !o.call_ids.is_empty() {
                e.call_ids.extend(o.call_ids.iter().cloned());
                e.call_ids.sort_by_key(|(place, _)| *place);
                e.call_ids.truncate(keep);
            }
        }
    }

    pub fn merged(mut self, other: &TrunkInvites) -> Self {
        self.add(other, usize::MAX);
        self
    }
}

/// The SIP messages to or from XCC, and whether an INVITE reached it.
#[derive(Debug, Clone, Default)]
pub struct XccTraffic {
    pub invites_to_xcc: u64,
    pub messages: u64,
    /// Request methods among them.
    pub methods: BTreeSet<String>,
    /// `source → destination` of the requests.
    pub pairs: BTreeSet<String>,
    /// The first frames, in call order (as many as a finding cites).
    pub frames: Vec<u64>,
    pub first_frame: Option<u64>,
    pub last_frame: Option<u64>,
    /// XCC's addresses among them.
    pub xcc_ips: BTreeSet<IpAddr>,
}

/// Frames a finding about the traffic cites.
pub const CITED: usize = 20;

impl XccTraffic {
    /// Nothing when XCC is not known.
    pub fn of(cx: &Context<'_>) -> Self {
        let mut out = XccTraffic::default();
        if !cx.roles.known() {
            return out;
        }
        for c in cx.calls {
            out.invites_to_xcc +=
                c.invites.iter().filter(|t| cx.roles.is_xcc(t.dst)).count() as u64;
            // Repeats left out of a lasting call's list count too (each repeats a
            // message listed, so the pairs and methods stay the same).
            for &(src, dst, n) in c.folded_pairs() {
                if cx.roles.is_xcc(src) || cx.roles.is_xcc(dst) {
                    out.messages += n;
                }
            }
            for m in &c.messages {
                if !(cx.roles.is_xcc(m.src) || cx.roles.is_xcc(m.dst)) {
                    continue;
                }
                out.messages += 1;
                if out.frames.len() < CITED {
                    out.frames.push(m.frame);
                }
                out.first_frame.get_or_insert(m.frame);
                out.last_frame = Some(m.frame);
                if let Some(method) = m.method.as_deref() {
                    out.methods.insert(method.to_string());
                    out.pairs.insert(format!("{} → {}", m.src, m.dst));
                }
                out.xcc_ips.extend(
                    [m.src, m.dst]
                        .iter()
                        .filter(|a| cx.roles.is_xcc(**a))
                        .map(|a| a.ip()),
                );
            }
        }
        out
    }

    /// Adds `other` (traffic judged after this), keeping at most `keep` methods, pairs
    /// and addresses.
    pub fn add(&mut self, other: &XccTraffic, keep: usize) {
        self.invites_to_xcc += other.invites_to_xcc;
        self.messages += other.messages;
        let room = CITED.saturating_sub(self.frames.len());
        self.frames.extend(other.frames.iter().take(room));
        if self.first_frame.is_none() {
            self.first_frame = other.first_frame;
        }
        if other.last_frame.is_some() {
            self.last_frame = other.last_frame;
        }
        for (mine, theirs) in [
            (&mut self.methods, &other.methods),
            (&mut self.pairs, &other.pairs),
        ] {
            for x in theirs {
                if mine.len() >= keep {
                    break;
                }
                mine.insert(x.clone());
            }
        }
        for ip in &other.xcc_ips {
            if self.xcc_ips.len() >= keep {
                break;
            }
            self.xcc_ips.insert(*ip);
        }
    }

    pub fn merged(mut self, other: &XccTraffic) -> Self {
        self.add(other, usize::MAX);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(n: u64) -> FailedInvite {
        FailedInvite {
            place: (n, n),
            call_id: format!("c{n}"),
            request_frame: n,
            status: 503,
            final_frame: Some(n + 1),
            proof: Vec::new(),
        }
    }

    #[test]
    fn trunk_digests_add_up_counts_and_keep_bounded_lists() {
        let trunk: SocketAddr = "10.0.0.2:5070".parse().unwrap();
        let mut seen = TrunkInvites::default();
        // Added in any order: the first ones in capture order are kept.
        for n in [4, 1, 3, 0, 2] {
            let mut one = TrunkInvites::default();
            one.by_trunk.insert(
                trunk,
                TrunkTally {
                    invites: 1,
                    ok: 0,
                    failed: vec![failed(n)],
                    failed_uncounted: 0,
                    call_ids: vec![((n, n), format!("c{n}"))],
                },
            );
            seen.add(&one, 3);
        }
        let t = &seen.by_trunk[&trunk];
        assert_eq!((t.invites, t.ok), (5, 0));
        assert_eq!(t.failed.len(), 3);
        assert_eq!(t.failed[0].call_id, "c0");
        assert_eq!(t.failed_uncounted, 2);
        let ids: Vec<&str> = t.call_ids.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["c0", "c1", "c2"]);
        // At most `keep` endpoints.
        let mut other = TrunkInvites::default();
        for port in 1..10 {
            other.by_trunk.insert(
                SocketAddr::from(([10, 0, 0, 3], port)),
                TrunkTally::default(),
            );
        }
        seen.add(&other, 3);
        assert_eq!(seen.by_trunk.len(), 3);
    }

    #[test]
    fn traffic_digests_keep_the_first_frames_and_the_last() {
        let mut seen = XccTraffic::default();
        for n in 0..30u64 {
            let one = XccTraffic {
                messages: 1,
                methods: [format!("M{n}")].into(),
                frames: vec![n + 1],
                first_frame: Some(n + 1),
                last_frame: Some(n + 1),
                ..XccTraffic::default()
            };
            seen.add(&one, 10);
        }
        assert_eq!(seen.messages, 30);
        assert_eq!(seen.frames, (1..=CITED as u64).collect::<Vec<_>>());
        assert_eq!((seen.first_frame, seen.last_frame), (Some(1), Some(30)));
        assert_eq!(seen.methods.len(), 10);
    }
}
