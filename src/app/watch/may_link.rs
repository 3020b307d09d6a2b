//! Which calls `watch` holds for their Follow-Me legs: those one of whose INVITEs is sent by
//! or to an address that is or may be XCC. Input: every message as it comes, the
//! `--xcc` endpoints and the XCC addresses earlier calls showed; output: whether a
//! retired call may be linked with another.

use crate::calls::Call;
use crate::calls::legs::{Endpoint, KnownXcc, agent_says_xcc};
use crate::sip::SipMessage;

/// Addresses [`MayLink`] keeps; past them every call with an INVITE waits for its legs.
const MAX_MAY_LINK: usize = 4096;

/// The addresses a call must involve to be linked with another, learnt from every message
/// as it comes (a call retiring now may be linked through a message of a call that
/// retires later): XCC is an end of every linked leg, and XCC is either given (`--xcc`),
/// an address that named itself XCC in a User-Agent or Server header, or one that
/// received a forwarded INVITE (Diversion or History-Info) and may send a new one back —
/// the evidence [`crate::calls::legs::infer_roles_knowing`] accepts.
#[derive(Default)]
pub(super) struct MayLink {
    ips: foldhash::HashSet<std::net::IpAddr>,
    /// More than [`MAX_MAY_LINK`] addresses: any call with an INVITE may be linked.
    full: bool,
}

impl MayLink {
    pub(super) fn note(&mut self, m: &SipMessage) {
        // One pass over the headers (this runs for every message): the first User-Agent
        // and the first Server header, and whether a Diversion or History-Info is there.
        // By name first, the value only of the headers sought (this runs for every
        // message).
        if [m.header("user-agent"), m.header("server")]
            .into_iter()
            .flatten()
            .any(agent_says_xcc)
        {
            self.add(m.src.ip());
        }
        if m.method() == Some("INVITE")
            && (m.header("diversion").is_some() || m.header("history-info").is_some())
        {
            self.add(m.dst.ip());
        }
    }

    fn add(&mut self, ip: std::net::IpAddr) {
        if self.ips.len() < MAX_MAY_LINK {
            self.ips.insert(ip);
        } else if !self.ips.contains(&ip) {
            self.full = true;
        }
    }

    /// Whether `c` may be a leg linked with another call: one of its INVITEs is sent by
    /// or to an address that is or may be XCC.
    pub(super) fn may_link(&self, c: &Call, given: &[Endpoint], known: &KnownXcc) -> bool {
        let xcc = |ip: std::net::IpAddr| {
            self.ips.contains(&ip) || known.0.contains_key(&ip) || given.iter().any(|e| e.ip == ip)
        };
        c.invites
            .iter()
            .any(|t| self.full || xcc(t.src.ip()) || xcc(t.dst.ip()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallSet;
    use crate::sip::message::udp_message as message;

    fn invite(call_id: &str, extra: &str) -> String {
        format!(
            "INVITE sip:200@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK{call_id}\r\nFrom: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.9>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    }

    fn call(m: SipMessage) -> Call {
        let mut set = CallSet::default();
        set.add(m);
        set.calls.pop().unwrap()
    }

    #[test]
    fn may_link_learns_xcc_from_agents_and_forwarded_invites() {
        let mut may = MayLink::default();
        let plain = message(&invite("a", ""), "10.0.0.1:5060", "10.0.0.9:5060", 1);
        may.note(&plain);
        assert!(may.ips.is_empty());
        let plain = call(plain);
        assert!(!may.may_link(&plain, &[], &KnownXcc::default()));
        // Given with --xcc, or learnt from earlier calls.
        let given = Endpoint::parse("10.0.0.9").unwrap();
        assert!(may.may_link(&plain, &[given], &KnownXcc::default()));
        let mut known = KnownXcc::default();
        known
            .0
            .insert("10.0.0.1".parse().unwrap(), "XCC is 10.0.0.1".into());
        assert!(may.may_link(&plain, &[], &known));

        // Another call's message names 10.0.0.9 XCC: the plain call to it may be a leg.
        let options = "OPTIONS sip:10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKo\r\nFrom: <sip:xcc@10.0.0.9>;tag=o\r\nTo: <sip:10.0.0.1>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\nUser-Agent: XPhone Connect XCC\r\nContent-Length: 0\r\n\r\n";
        may.note(&message(options, "10.0.0.9:5060", "10.0.0.1:5060", 2));
        assert!(may.may_link(&plain, &[], &KnownXcc::default()));

        // A forwarded INVITE's receiver may be XCC (it may send a new INVITE back).
        let mut may = MayLink::default();
        let forwarded = invite("f", "Diversion: <sip:300@10.0.0.1>;reason=no-answer\r\n");
        may.note(&message(&forwarded, "10.0.0.1:5060", "10.0.0.7:5060", 3));
        assert!(may.ips.contains(&"10.0.0.7".parse().unwrap()));
        assert!(!may.ips.contains(&"10.0.0.1".parse().unwrap()));
        let back = call(message(
            &invite("b", ""),
            "10.0.0.7:5060",
            "10.0.0.1:5060",
            4,
        ));
        assert!(may.may_link(&back, &[], &KnownXcc::default()));
        let history = invite("h", "History-Info: <sip:300@10.0.0.1>;index=1\r\n");
        may.note(&message(&history, "10.0.0.1:5060", "10.0.0.8:5060", 5));
        assert!(may.ips.contains(&"10.0.0.8".parse().unwrap()));

        // Past its cap, any call with an INVITE may be linked; one without cannot.
        for i in 0..=MAX_MAY_LINK as u32 {
            may.add(std::net::IpAddr::from(i.to_be_bytes()));
        }
        assert!(may.full && may.ips.len() == MAX_MAY_LINK);
        assert!(may.may_link(&plain, &[], &KnownXcc::default()));
        let bye = "BYE sip:200@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\nFrom: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.9>;tag=b\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
        let lone = call(message(bye, "10.0.0.1:5060", "10.0.0.9:5060", 6));
        assert!(!may.may_link(&lone, &[], &KnownXcc::default()));
    }
}
