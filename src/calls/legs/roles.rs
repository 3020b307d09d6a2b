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

use serde::Serialize;

use super::evidence::RoleTally;
use crate::calls::Call;

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
    /// INVITEs not counted at the `--max-address-pairs` cap (rule CAP006 reports it).
    #[serde(skip)]
    #[schemars(skip)]
    pub pair_limit: Option<super::PairLimit>,
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

/// XPhone names itself "XPhone Connect …", "XCC …" or "C4B …". The short names count only
/// as words (not inside letters or digits): version strings often carry hex hashes, and
/// "c4b" is a hex word. Case is ignored. One pass over the string, looking closer only
/// at an `x` or a `c` (this runs for every message and every call).
pub fn agent_says_xcc(agent: &str) -> bool {
    let h = agent.as_bytes();
    let at = |i: usize, w: &[u8]| {
        h.get(i..i + w.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(w))
    };
    let edge = |j: Option<usize>| {
        j.and_then(|j| h.get(j))
            .is_none_or(|b| !b.is_ascii_alphanumeric())
    };
    let word = |i: usize, w: &[u8]| at(i, w) && edge(i.checked_sub(1)) && edge(Some(i + w.len()));
    h.iter().enumerate().any(|(i, &b)| match b | 0x20 {
        b'x' => at(i, b"xphone") || word(i, b"xcc"),
        b'c' => word(i, b"c4b"),
        _ => false,
    })
}

pub(super) fn agent_says_pbx(agent: &str) -> bool {
    ["ip office", "ipoffice", "avaya"]
        .iter()
        .any(|n| contains_ignore_case(agent, n))
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
    let mut tally = RoleTally::new(xcc);
    tally.add(&calls.iter().collect::<Vec<_>>());
    tally.roles(xcc, pbx, known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallSet;
    use crate::capture::Timestamp;
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
        // Cut short at the end, inside words, next to digits, in any case.
        for no in [
            "x",
            "xc",
            "c",
            "c4",
            "xcc1",
            "1c4b",
            "x phone",
            "XCCX",
            "BenchPhone/2.4.1",
        ] {
            assert!(!agent_says_xcc(no), "{no}");
        }
        for yes in [
            "myXPHONE/2",
            "gw (xCc)",
            "C4b",
            "éxcc",
            "a-c4B_b",
            "xphon xphone",
        ] {
            assert!(agent_says_xcc(yes), "{yes}");
        }
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
