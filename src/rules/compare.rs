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
    /// The hosts that sent or received SIP in the calls judged so far (CAP003).
    pub sip_hosts: SipHosts,
}

impl Seen {
    /// Adds what the calls of `cx` show that holds whatever else is seen (the trunks that
    /// work): may be called again with the same calls.
    pub fn learn(&mut self, cx: &Context<'_>) {
        self.working_trunks.extend(working_trunks(cx));
    }

    /// The digests of the calls of `cx`, to [`Seen::add`] once per call, when it is
    /// judged; their hosts go straight to `SipHosts::judged`.
    pub fn of(cx: &Context<'_>) -> Self {
        Seen {
            working_trunks: BTreeSet::new(),
            trunks: TrunkInvites::of(cx),
            xcc: XccTraffic::of(cx),
            sip_hosts: SipHosts::default(),
        }
    }

    /// Adds `other` (calls judged after these).
    pub fn add(&mut self, other: &Seen) {
        self.working_trunks.extend(&other.working_trunks);
        self.trunks.add(&other.trunks, KEEP);
        self.xcc.add(&other.xcc, KEEP);
    }
}

/// Hosts [`SipHosts`] keeps at most: past them, no more are added (a trunk shows a few;
/// a site's phones thousands; 8,192 addresses take about 200 KiB).
const HOSTS: usize = 1 << 13;

/// The addresses that sent or received SIP in the calls judged (CAP003 takes TLS between
/// two of them for signalling), up to [`HOSTS`]: one per host, not per call.
#[derive(Debug, Clone, Default)]
pub struct SipHosts(foldhash::HashSet<IpAddr>);

impl SipHosts {
    /// Adds the hosts of `calls` (judged), up to [`HOSTS`] in all.
    pub fn judged(&mut self, calls: &[super::Call]) {
        let ips =
            (calls.iter()).flat_map(|c| c.messages.iter().flat_map(|m| [m.src.ip(), m.dst.ip()]));
        for ip in ips {
            if self.0.len() >= HOSTS {
                return;
            }
            self.0.insert(ip);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.0.iter().copied()
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
    /// `keep` failed INVITEs and Call-IDs in capture order, and the first `keep`
    /// endpoints in sort order: the sum is the same in any order.
    pub fn add(&mut self, other: &TrunkInvites, keep: usize) {
        for (trunk, o) in &other.by_trunk {
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
        while self.by_trunk.len() > keep {
            self.by_trunk.pop_last();
        }
    }

    /// These and `other`, within the bounds of a sum ([`TrunkInvites::add`]), so that the
    /// calls held at once and those added up unit by unit give the same.
    pub fn merged(self, other: &TrunkInvites) -> Self {
        let mut out = TrunkInvites::default();
        out.add(&self, KEEP);
        out.add(other, KEEP);
        out
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
    /// The first frames in call order (as many as a finding cites), each with its call's
    /// first frame: the same ones whatever order the calls were added in.
    cited: Vec<(u64, u64)>,
    pub first_frame: Option<u64>,
    pub last_frame: Option<u64>,
    /// XCC's addresses among them.
    pub xcc_ips: BTreeSet<IpAddr>,
}

/// Adds `theirs` to `mine`, keeping the first `keep` in sort order.
fn union_first<T: Ord + Clone>(mine: &mut BTreeSet<T>, theirs: &BTreeSet<T>, keep: usize) {
    mine.extend(theirs.iter().cloned());
    while mine.len() > keep {
        mine.pop_last();
    }
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
            for (src, dst, n) in c.folded_pairs() {
                if cx.roles.is_xcc(src) || cx.roles.is_xcc(dst) {
                    out.messages += n;
                }
            }
            for m in &c.messages {
                if !(cx.roles.is_xcc(m.src) || cx.roles.is_xcc(m.dst)) {
                    continue;
                }
                out.messages += 1;
                if out.cited.len() < CITED {
                    out.cited.push((c.first_frame, m.frame));
                }
                out.first_frame = Some(out.first_frame.map_or(m.frame, |f| f.min(m.frame)));
                out.last_frame = out.last_frame.max(Some(m.frame));
                if let Some(method) = c.method_of(m) {
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

    /// The frames a finding cites, in call order.
    pub fn frames(&self) -> impl Iterator<Item = u64> + '_ {
        self.cited.iter().map(|&(_, frame)| frame)
    }

    /// Adds `other` (traffic of other calls, judged before or after these), keeping at
    /// most `keep` methods, pairs and addresses (the first in sort order): the sum is
    /// the same in any order.
    pub fn add(&mut self, other: &XccTraffic, keep: usize) {
        self.invites_to_xcc += other.invites_to_xcc;
        self.messages += other.messages;
        self.cited.extend_from_slice(&other.cited);
        self.cited.sort_unstable();
        self.cited.dedup();
        self.cited.truncate(CITED);
        self.first_frame = self.first_frame.into_iter().chain(other.first_frame).min();
        self.last_frame = self.last_frame.max(other.last_frame);
        union_first(&mut self.methods, &other.methods, keep);
        union_first(&mut self.pairs, &other.pairs, keep);
        union_first(&mut self.xcc_ips, &other.xcc_ips, keep);
    }

    /// These and `other`, within the bounds of a sum ([`XccTraffic::add`]), so that the
    /// calls held at once and those added up unit by unit give the same.
    pub fn merged(self, other: &XccTraffic) -> Self {
        let mut out = XccTraffic::default();
        out.add(&self, KEEP);
        out.add(other, KEEP);
        out
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
        let kept: Vec<String> = seen.by_trunk.keys().map(|k| k.to_string()).collect();
        assert_eq!(kept, ["10.0.0.2:5070", "10.0.0.3:1", "10.0.0.3:2"]);
    }

    #[test]
    fn traffic_digests_keep_the_first_frames_and_the_last() {
        let mut seen = XccTraffic::default();
        for n in 0..30u64 {
            let one = XccTraffic {
                messages: 1,
                methods: [format!("M{n:02}")].into(),
                cited: vec![(n + 1, n + 1)],
                first_frame: Some(n + 1),
                last_frame: Some(n + 1),
                ..XccTraffic::default()
            };
            seen.add(&one, 10);
        }
        assert_eq!(seen.messages, 30);
        assert_eq!(
            seen.frames().collect::<Vec<_>>(),
            (1..=CITED as u64).collect::<Vec<_>>()
        );
        assert_eq!((seen.first_frame, seen.last_frame), (Some(1), Some(30)));
        assert_eq!(seen.methods.len(), 10);
    }

    /// Calls added in any order give the same sum: frames in call order (a call's
    /// messages after an earlier call's, even when they came first), the first and last
    /// frames, the first methods in sort order.
    #[test]
    fn traffic_digests_add_up_the_same_in_any_order() {
        // Call n begins in frame 10 n + 1 and has XCC messages in frames 10 n + 1 and
        // 10 n + 25 (after the next call's first).
        let call = |n: u64| XccTraffic {
            messages: 2,
            methods: [format!("M{}", 9 - n as i64)].into(),
            cited: vec![(10 * n + 1, 10 * n + 1), (10 * n + 1, 10 * n + 25)],
            first_frame: Some(10 * n + 1),
            last_frame: Some(10 * n + 25),
            ..XccTraffic::default()
        };
        let sum = |order: &[u64]| {
            let mut s = XccTraffic::default();
            for &n in order {
                s.add(&call(n), 3);
            }
            s
        };
        let forward: Vec<u64> = (0..12).collect();
        let a = sum(&forward);
        for order in [
            forward.iter().rev().copied().collect::<Vec<_>>(),
            vec![5, 0, 11, 3, 1, 2, 4, 6, 7, 8, 9, 10],
        ] {
            let b = sum(&order);
            assert_eq!(
                b.frames().collect::<Vec<_>>(),
                a.frames().collect::<Vec<_>>()
            );
            assert_eq!(
                (b.first_frame, b.last_frame, &b.methods),
                (a.first_frame, a.last_frame, &a.methods)
            );
        }
        assert_eq!(a.frames().take(4).collect::<Vec<_>>(), [1, 25, 11, 35]);
        assert_eq!((a.first_frame, a.last_frame), (Some(1), Some(135)));
        assert_eq!(
            a.methods.iter().map(String::as_str).collect::<Vec<_>>(),
            ["M-1", "M-2", "M0"]
        );
    }
}
