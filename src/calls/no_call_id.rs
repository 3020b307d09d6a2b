//! Stage 4 helper: the call a message without a Call-ID header belongs to.
//!
//! Input: one [`SipMessage`] whose Call-ID header is absent. Output: a [`NoCallIdKey`]
//! that groups it with the rest of its transaction, a call key for [`super::Call`] and
//! the Wireshark display filter that shows exactly the messages so grouped.
//!
//! RFC 3261 §8.1.1.4 makes Call-ID mandatory, but home-made user agents omit it. Without
//! it the best remaining transaction key is the From tag and the CSeq number (§8.1.1.3,
//! §8.1.1.5): a response copies both from its request (§8.2.6.2), and so does the ACK of
//! a non-2xx answer and a CANCEL (§17.1.1.3, §9.1), so an INVITE, its responses and its
//! ACK fall in one group. The two IP addresses are part of the key so that unrelated
//! agents that happen to reuse a tag do not meet. Ports are not: a response goes to the
//! port in the Via (§18.2.2), which need not be the request's source port.
//!
//! What a Call-ID would join and this key cannot: a request with a new CSeq number — a
//! retry with credentials after 401/407 (§22.2), a BYE, a re-INVITE — forms a group of
//! its own.
//!
//! Invariants: the call key contains spaces, which a Call-ID cannot (§25.1: `callid =
//! word ["@" word]`), so it never equals a real Call-ID; it starts with
//! [`NO_CALL_ID_PREFIX`] so a reader sees at once that it is made up.

use std::net::IpAddr;

use serde::Serialize;

use crate::sip::SipMessage;

/// How every synthetic call key starts.
pub const NO_CALL_ID_PREFIX: &str = "(no Call-ID)";

/// What the messages of a call without Call-ID have in common.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct NoCallIdKey {
    /// The From tag (`None`: the From header has none, as with RFC 2543 agents).
    pub from_tag: Option<String>,
    /// The CSeq sequence number (`None`: no readable CSeq).
    pub cseq: Option<u32>,
    /// The two IP addresses of the exchange, the lower first.
    pub addresses: [IpAddr; 2],
}

impl NoCallIdKey {
    /// The key of `m`, whose Call-ID header is absent.
    pub(crate) fn of(m: &SipMessage) -> Self {
        let (a, b) = (m.src.ip(), m.dst.ip());
        NoCallIdKey {
            from_tag: m.from().and_then(|f| f.tag),
            cseq: m.cseq().map(|c| c.seq),
            addresses: if a <= b { [a, b] } else { [b, a] },
        }
    }

    /// The call's key where a Call-ID would be: marked as made up, and unique per group.
    pub fn call_key(&self) -> String {
        format!(
            "{NO_CALL_ID_PREFIX} from-tag={} cseq={} {} {}",
            self.from_tag.as_deref().unwrap_or("-"),
            self.cseq.map_or("-".to_string(), |c| c.to_string()),
            self.addresses[0],
            self.addresses[1],
        )
    }

    /// A Wireshark display filter showing exactly the messages of this group (checked
    /// against tshark on the fixtures: `testdata/calls/*.filters.tsv`).
    pub fn wireshark_filter(&self) -> String {
        let tag = match &self.from_tag {
            Some(t) => format!("sip.from.tag == \"{}\"", escape(t)),
            None => "!sip.from.tag".to_string(),
        };
        let cseq = match self.cseq {
            Some(n) => format!("sip.CSeq.seq == {n}"),
            None => "!sip.CSeq.seq".to_string(),
        };
        let ip = |a: &IpAddr| match a {
            IpAddr::V4(_) => format!("ip.addr == {a}"),
            IpAddr::V6(_) => format!("ipv6.addr == {a}"),
        };
        format!(
            "sip && !sip.Call-ID && {tag} && {cseq} && {} && {}",
            ip(&self.addresses[0]),
            ip(&self.addresses[1])
        )
    }

    /// One sentence for reports: that the messages lacked a Call-ID and how they were
    /// grouped.
    pub fn note(&self) -> String {
        format!(
            "The messages of this call carry no Call-ID header (RFC 3261 §8.1.1.4 requires \
             one; fix the sending user agent): sipdiag grouped them by From tag {}, CSeq {} \
             and the addresses {} and {}.",
            self.from_tag.as_deref().unwrap_or("(none)"),
            self.cseq.map_or("(none)".to_string(), |c| c.to_string()),
            self.addresses[0],
            self.addresses[1],
        )
    }
}

/// A string inside a Wireshark filter's double quotes.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tag: Option<&str>, cseq: Option<u32>, a: &str, b: &str) -> NoCallIdKey {
        NoCallIdKey {
            from_tag: tag.map(str::to_string),
            cseq,
            addresses: [a.parse().unwrap(), b.parse().unwrap()],
        }
    }

    #[test]
    fn call_key_is_marked_and_cannot_be_a_call_id() {
        let k = key(Some("t1"), Some(1), "10.0.0.1", "10.0.0.2").call_key();
        assert_eq!(k, "(no Call-ID) from-tag=t1 cseq=1 10.0.0.1 10.0.0.2");
        assert!(k.contains(' '));
        let k = key(None, None, "::1", "::2").call_key();
        assert_eq!(k, "(no Call-ID) from-tag=- cseq=- ::1 ::2");
    }

    #[test]
    fn filter_names_absent_fields_and_escapes_quotes() {
        assert_eq!(
            key(Some("a\"b"), Some(7), "10.0.0.1", "10.0.0.2").wireshark_filter(),
            "sip && !sip.Call-ID && sip.from.tag == \"a\\\"b\" && sip.CSeq.seq == 7 \
             && ip.addr == 10.0.0.1 && ip.addr == 10.0.0.2"
        );
        assert_eq!(
            key(None, None, "2001:db8::1", "2001:db8::2").wireshark_filter(),
            "sip && !sip.Call-ID && !sip.from.tag && !sip.CSeq.seq \
             && ipv6.addr == 2001:db8::1 && ipv6.addr == 2001:db8::2"
        );
    }
}
