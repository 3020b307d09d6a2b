//! Roles: which addresses are XCC (the XPhone Connect call controller) and which are the
//! PBXs / gateways on its trunks.
//!
//! Input: the calls of a capture and the `--xcc` / `--pbx` overrides. Output: [`Roles`],
//! every conclusion with the reason shown in the report.
//!
//! Invariant: an address is XCC only on strong evidence, because every Follow-Me rule
//! (FM001–FM010) speaks about XCC and would be wrong about any other box:
//! - `--xcc`, or
//! - a User-Agent / Server string naming XPhone, C4B or XCC sent from that address, or
//! - XCC's whole Follow-Me behaviour: the address receives a forwarded INVITE (Diversion,
//!   RFC 5806, or History-Info, RFC 7044) *and* sends a new INVITE (another Call-ID) back
//!   to the forwarding address for the same caller within the leg-linking window.
//!
//! Receiving a forwarded INVITE alone is not enough: voicemail systems, B2BUAs and proxies
//! receive them every day. Without XCC the Follow-Me rules stay silent and the report says
//! that no XPhone server was identified.
//!
//! The PBXs are every address that sends INVITEs to XCC (a site may have several PBXs or
//! gateways on XCC's trunks), or, when none does, every address XCC sends INVITEs to.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use foldhash::HashMap;
use serde::Serialize;

use super::LINK_WINDOW_SECS;
use crate::calls::Call;
use crate::capture::Timestamp;

/// An endpoint given on the command line: an address, optionally with a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(Endpoint {
                ip: sa.ip(),
                port: Some(sa.port()),
            });
        }
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>()
            .map(|ip| Endpoint { ip, port: None })
            .map_err(|_| format!("{s:?} is not an address (ADDR or ADDR:PORT)"))
    }

    pub fn matches(&self, a: &SocketAddr) -> bool {
        self.ip == a.ip() && self.port.is_none_or(|p| p == a.port())
    }
}

/// Which addresses play XCC and the PBX, and why sipdiag thinks so.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Roles {
    pub xcc: Vec<IpAddr>,
    pub pbx: Vec<IpAddr>,
    pub reasons: Vec<String>,
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) xcc_endpoints: Vec<Endpoint>,
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) pbx_endpoints: Vec<Endpoint>,
}

impl Roles {
    /// Whether `a` is an XCC address (`--xcc` endpoints when given, else the inferred
    /// addresses).
    pub fn is_xcc(&self, a: impl Into<SocketAddr>) -> bool {
        let a = &a.into();
        if !self.xcc_endpoints.is_empty() {
            return self.xcc_endpoints.iter().any(|e| e.matches(a));
        }
        self.xcc.contains(&a.ip())
    }

    /// Whether `a` is a PBX address (as [`Roles::is_xcc`]).
    pub fn is_pbx(&self, a: impl Into<SocketAddr>) -> bool {
        let a = &a.into();
        if !self.pbx_endpoints.is_empty() {
            return self.pbx_endpoints.iter().any(|e| e.matches(a));
        }
        self.pbx.contains(&a.ip())
    }

    pub fn known(&self) -> bool {
        !self.xcc.is_empty()
    }
}

/// The sentence the report shows when no address qualifies as XCC.
pub(crate) const NO_XCC: &str =
    "no XPhone server identified; use --xcc ADDR if one is in the capture";

/// Reasons kept per candidate address.
const MAX_REASONS: usize = 5;

/// How many earlier forwarded INVITEs of the same (receiver, sender, caller) a new INVITE
/// is compared with: enough for any real call rate, and a bound on crafted captures.
const MAX_LOOKBACK: usize = 64;

/// Whether `hay` contains `needle` (lower-case ASCII), ignoring ASCII case; no copy.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else {
        return true;
    };
    // Compared only where the first letter is, in either case: agent strings are
    // checked for every call, and the letters sought are rare in them.
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), hay).any(|i| {
        hay.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// Whether `hay` contains `needle` as a word of its own (not inside letters or digits),
/// ignoring ASCII case.
fn contains_word_ignore_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.len());
    if n == 0 || h.len() < n {
        return n == 0;
    }
    let at_edge = |i: Option<&u8>| i.is_none_or(|b| !b.is_ascii_alphanumeric());
    (0..=h.len() - n).any(|i| {
        h.get(i..i + n)
            .is_some_and(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
            && at_edge(i.checked_sub(1).and_then(|j| h.get(j)))
            && at_edge(h.get(i + n))
    })
}

/// XPhone names itself "XPhone Connect …", "XCC …" or "C4B …". The short names count only
/// as words: version strings often carry hex hashes, and "c4b" is a hex word.
pub fn agent_says_xcc(agent: &str) -> bool {
    contains_ignore_case(agent, "xphone")
        || contains_word_ignore_case(agent, "xcc")
        || contains_word_ignore_case(agent, "c4b")
}

fn agent_says_pbx(agent: &str) -> bool {
    ["ip office", "ipoffice", "avaya"]
        .iter()
        .any(|n| contains_ignore_case(agent, n))
}

/// Evidence gathered for one address.
#[derive(Default)]
struct Evidence {
    /// Named itself XPhone/C4B/XCC.
    named: bool,
    /// Showed XCC's Follow-Me behaviour (forwarded INVITE in, new INVITE back).
    behaves: bool,
    reasons: Vec<String>,
}

impl Evidence {
    fn note(&mut self, why: String) {
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(why);
        }
    }
}

/// A forwarded INVITE: when it started, when it ended, its Call-ID and frame.
struct Forwarded<'c> {
    start: Timestamp,
    end: Option<Timestamp>,
    call_id: &'c str,
    frame: u64,
}

/// Infers the roles from the calls, honouring overrides.
pub fn infer_roles(calls: &[Call], xcc: &[Endpoint], pbx: &[Endpoint]) -> Roles {
    infer_roles_knowing(calls, xcc, pbx, &KnownXcc::default())
}

/// The XCC addresses that earlier calls have shown, with the sentence that says why: what
/// a judgement of a few calls at a time (`sipdiag watch`) keeps of the calls gone, so that
/// a call whose own messages do not show XCC (a 503 without a Server header) is still
/// judged with it. Small: one entry per XCC address.
#[derive(Debug, Clone, Default)]
pub struct KnownXcc(pub BTreeMap<IpAddr, String>);

impl KnownXcc {
    /// Keeps the XCC addresses `roles` found on evidence (not those given with --xcc).
    pub fn learn(&mut self, roles: &Roles) {
        if !roles.xcc_endpoints.is_empty() {
            return;
        }
        for ip in &roles.xcc {
            if self.0.contains_key(ip) {
                continue;
            }
            let prefix = format!("XCC is {ip}: ");
            if let Some(why) = roles.reasons.iter().find(|r| r.starts_with(&prefix)) {
                self.0.insert(*ip, why.clone());
            }
        }
    }
}

/// [`infer_roles`], with the XCC addresses earlier calls showed ([`KnownXcc`]) as evidence.
pub fn infer_roles_knowing(
    calls: &[Call],
    xcc: &[Endpoint],
    pbx: &[Endpoint],
    known: &KnownXcc,
) -> Roles {
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
        let found = xcc_evidence(calls);
        for (ip, e) in found {
            r.xcc.push(ip);
            r.reasons
                .push(format!("XCC is {ip}: {}", e.reasons.join("; ")));
        }
        for (ip, why) in &known.0 {
            if !r.xcc.contains(ip) {
                r.xcc.push(*ip);
                r.reasons.push(why.clone());
            }
        }
    }
    if r.pbx.is_empty() && !r.xcc.is_empty() {
        name_pbxs(calls, &mut r);
    }
    if r.xcc.is_empty() && !calls.is_empty() {
        r.reasons.push(NO_XCC.into());
        if let Some(line) = no_call_line(calls) {
            r.reasons.push(line);
        }
    }
    r
}

/// The addresses with strong evidence of being XCC, in address order.
fn xcc_evidence(calls: &[Call]) -> BTreeMap<IpAddr, Evidence> {
    let mut ev: BTreeMap<IpAddr, Evidence> = BTreeMap::new();
    // Agent strings on any message (INVITE, OPTIONS keep-alive, REGISTER, …), each agent
    // once per address: the calls record them by sender.
    let mut named: foldhash::HashSet<(IpAddr, &str)> = foldhash::HashSet::default();
    for c in calls {
        for (addr, a) in c.agents.iter().filter(|(_, a)| agent_says_xcc(a)) {
            if named.insert((addr.ip(), a.as_str())) {
                let e = ev.entry(addr.ip()).or_default();
                e.named = true;
                let frame = c
                    .messages
                    .iter()
                    .find(|m| m.src == *addr)
                    .map_or(c.first_frame, |m| m.frame);
                e.note(format!(
                    "identifies itself as {a:?} (Call-ID {}, its first message: frame {frame})",
                    c.call_id
                ));
            }
        }
    }
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
    for list in forwarded.values_mut() {
        list.sort_by_key(|f| f.start);
    }
    // A new INVITE from a receiver back to the forwarding address, same caller, starting
    // while the forwarded one is set up or within the linking window after its answer.
    for c in calls {
        for t in &c.invites {
            let Some(caller) = t.from.as_ref().and_then(|f| f.user.as_deref()) else {
                continue;
            };
            let (me, peer) = (t.src.ip(), t.dst.ip());
            if me == peer || ev.get(&me).is_some_and(|e| e.behaves) {
                continue;
            }
            let Some(list) = forwarded.get(&(me, peer, caller)) else {
                continue;
            };
            let started = list.partition_point(|f| t.request_time.seconds_since(f.start) >= -0.5);
            let hit = list[..started].iter().rev().take(MAX_LOOKBACK).find(|f| {
                f.call_id != c.call_id
                    && f.end
                        .is_none_or(|e| t.request_time.seconds_since(e) <= LINK_WINDOW_SECS)
            });
            if let Some(f) = hit {
                let e = ev.entry(me).or_default();
                e.behaves = true;
                e.note(format!(
                    "receives a forwarded INVITE from {peer} (frame {}) and sends a new INVITE back to it for the same caller {caller:?} (frame {})",
                    f.frame, t.request_frame
                ));
            }
        }
    }
    ev.retain(|_, e| e.named || e.behaves);
    ev
}

/// A peer of XCC: (INVITEs to XCC, INVITEs from XCC, a PBX agent string).
type Peer<'c> = (u32, u32, Option<&'c str>);

/// Names every address that sends INVITEs to XCC (or, when none does, every address XCC
/// sends INVITEs to), most INVITEs first; a PBX agent string is quoted.
fn name_pbxs(calls: &[Call], r: &mut Roles) {
    let mut peers: BTreeMap<IpAddr, Peer<'_>> = BTreeMap::new();
    for c in calls {
        for t in &c.invites {
            let (to_xcc, from_xcc) = (r.is_xcc(t.dst), r.is_xcc(t.src));
            if to_xcc && !from_xcc {
                let p = peers.entry(t.src.ip()).or_default();
                p.0 += 1;
                if p.2.is_none() {
                    p.2 = t.user_agent.as_deref().filter(|a| agent_says_pbx(a));
                }
            } else if from_xcc && !to_xcc {
                let p = peers.entry(t.dst.ip()).or_default();
                p.1 += 1;
                if p.2.is_none() {
                    p.2 = t.server.as_deref().filter(|a| agent_says_pbx(a));
                }
            }
        }
    }
    let senders = peers.values().any(|p| p.0 > 0);
    let mut list: Vec<(IpAddr, Peer<'_>)> = peers
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
            Some(a) => format!("PBX is {ip}: {what}; agent {a:?}"),
            None => format!("PBX is {ip}: {what}"),
        });
    }
}

/// "the capture holds no call: …" when there is SIP but no INVITE at all.
fn no_call_line(calls: &[Call]) -> Option<String> {
    if calls.iter().any(|c| !c.invites.is_empty()) {
        return None;
    }
    let msgs = calls.iter().map(|c| c.message_count()).sum::<u64>();
    if msgs == 0 {
        return None;
    }
    let mut methods: Vec<&str> = calls
        .iter()
        .flat_map(|c| &c.messages)
        .filter_map(|m| m.method.as_deref())
        .collect();
    methods.sort_unstable();
    methods.dedup();
    Some(format!(
        "the capture holds no call: {msgs} SIP message(s) ({}), no INVITE",
        if methods.is_empty() {
            "responses only".to_string()
        } else {
            methods.join(", ")
        }
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallSet;
    use crate::net::Transport;
    use crate::sip::message::{Provenance, parse_message};

    /// Adds an INVITE (optionally with Diversion) and, after `answer_ms`, its 486.
    #[allow(clippy::too_many_arguments)]
    fn invite(
        set: &mut CallSet,
        id: &str,
        caller: &str,
        src: &str,
        dst: &str,
        at_ms: i64,
        answer_ms: Option<i64>,
        diversion: bool,
    ) {
        let mut add = |text: String, src: &str, dst: &str, ms: i64| {
            let p = Provenance {
                frame: set
                    .calls
                    .iter()
                    .map(|c| c.messages.len() as u64)
                    .sum::<u64>()
                    + 1,
                frames: Vec::new(),
                time: Timestamp::new(1_700_000_000 + ms / 1000, (ms % 1000) as u32 * 1_000_000),
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                transport: Transport::Udp,
            };
            set.add(parse_message(text.as_bytes(), p, true).unwrap());
        };
        let div = if diversion {
            "Diversion: <sip:+4930123456@pbx>;reason=unconditional\r\n"
        } else {
            ""
        };
        let head = format!(
            "Via: SIP/2.0/UDP h;branch=z9hG4bK{id}\r\nFrom: <sip:{caller}@x>;tag=1\r\nTo: <sip:799@x>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\n"
        );
        add(
            format!("INVITE sip:799@x SIP/2.0\r\n{head}{div}\r\n"),
            src,
            dst,
            at_ms,
        );
        if let Some(a) = answer_ms {
            add(format!("SIP/2.0 486 Busy\r\n{head}\r\n"), dst, src, a);
        }
    }

    const PBX: &str = "10.0.0.1:5060";
    const BOX: &str = "10.0.0.2:5060";
    const OTHER: &str = "10.0.0.3:5060";

    fn xcc_of(set: &CallSet) -> Vec<IpAddr> {
        infer_roles(&set.calls, &[], &[]).xcc
    }

    #[test]
    fn behaviour_needs_the_same_caller_back_to_the_forwarding_side_in_time() {
        // The whole pattern: forwarded INVITE in, new INVITE back for the same caller.
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(3000), true);
        invite(&mut set, "b", "111", BOX, PBX, 200, Some(2800), false);
        assert_eq!(xcc_of(&set), ["10.0.0.2".parse::<IpAddr>().unwrap()]);
        let roles = infer_roles(&set.calls, &[], &[]);
        assert_eq!(roles.pbx, ["10.0.0.1".parse::<IpAddr>().unwrap()]);

        // Another caller: a B2BUA placing unrelated calls, not XCC.
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(3000), true);
        invite(&mut set, "b", "222", BOX, PBX, 200, Some(2800), false);
        assert!(xcc_of(&set).is_empty());

        // Onward to a third address, not back to the forwarding side.
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(3000), true);
        invite(&mut set, "b", "111", BOX, OTHER, 200, Some(2800), false);
        assert!(xcc_of(&set).is_empty());

        // Back, same caller, but long after the forwarded call ended (outside the window).
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(1000), true);
        invite(
            &mut set,
            "b",
            "111",
            BOX,
            PBX,
            1000 + 6000,
            Some(8000),
            false,
        );
        assert!(xcc_of(&set).is_empty());

        // Just inside the window after the answer, and while the first is unanswered.
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(1000), true);
        invite(
            &mut set,
            "b",
            "111",
            BOX,
            PBX,
            1000 + 4900,
            Some(8000),
            false,
        );
        assert_eq!(xcc_of(&set).len(), 1);
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, None, true);
        invite(&mut set, "b", "111", BOX, PBX, 20_000, Some(21_000), false);
        assert_eq!(xcc_of(&set).len(), 1);

        // A forwarded INVITE alone.
        let mut set = CallSet::default();
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(1000), true);
        assert!(xcc_of(&set).is_empty());
        let roles = infer_roles(&set.calls, &[], &[]);
        assert_eq!(roles.reasons, [NO_XCC]);
    }

    #[test]
    fn agent_strings_name_xcc_and_several_pbxs_are_named() {
        let mut set = CallSet::default();
        let p = |frame, src: &str, dst: &str| Provenance {
            frame,
            frames: Vec::new(),
            time: Timestamp::new(1_700_000_000, 0),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::Udp,
        };
        set.add(
            parse_message(
                b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKo\r\nFrom: <sip:x@x>;tag=1\r\nTo: <sip:x@x>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\nUser-Agent: XPhone Connect XCC\r\n\r\n",
                p(1, BOX, PBX),
                true,
            )
            .unwrap(),
        );
        invite(&mut set, "a", "111", PBX, BOX, 0, Some(100), false);
        invite(&mut set, "b", "222", OTHER, BOX, 10, Some(100), false);
        invite(&mut set, "c", "333", OTHER, BOX, 20, Some(100), false);
        let roles = infer_roles(&set.calls, &[], &[]);
        assert_eq!(roles.xcc, ["10.0.0.2".parse::<IpAddr>().unwrap()]);
        // Most INVITEs first.
        assert_eq!(
            roles.pbx,
            [
                "10.0.0.3".parse::<IpAddr>().unwrap(),
                "10.0.0.1".parse::<IpAddr>().unwrap()
            ]
        );
        assert!(roles.reasons[1].contains("sends 2 INVITE(s) to XCC"));
    }

    #[test]
    fn xcc_agents_are_named_words_not_hash_fragments() {
        assert!(agent_says_xcc("XPhone Connect XCC"));
        assert!(agent_says_xcc("C4B XCC/9.0.1"));
        assert!(agent_says_xcc("xcc"));
        assert!(agent_says_xcc("c4b-gateway"));
        assert!(agent_says_xcc("XPhoneConnect/9"));
        assert!(!agent_says_xcc(
            "FreeSWITCH-mod_sofia/1.10.7-release+git~20211024T163933Z~883c4b2cb6~64bit"
        ));
        assert!(!agent_says_xcc("Axcc/1.0"));
        assert!(!agent_says_xcc(""));
    }

    #[test]
    fn contains_ignore_case_finds_any_case() {
        use contains_ignore_case as c;
        assert!(c("XPhone Connect XCC 9.0", "xcc"));
        assert!(c("c4b/xphone", "XPHONE"));
        assert!(c("Avaya IP Office", "ip office"));
        assert!(!c("BenchPhone/2.4.1", "xcc"));
        assert!(!c("xc", "xcc"));
        assert!(c("anything", ""));
        assert!(c("axxcc", "xcc"));
    }
}
