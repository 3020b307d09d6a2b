//! Stage 3: [`Packet`](crate::net::Packet) → [`SipMessage`].
//!
//! Input: datagrams and ordered stream bytes from [`crate::net`]. Output: whole SIP
//! messages with their frames ([`extract`]), parsed leniently ([`message`]) with typed
//! header views ([`headers`]) and an SDP summary ([`sdp`]).
//!
//! Invariants: SIP is recognised by content on any port; no input makes the parser panic
//! or buffer more than [`extract::MAX_MESSAGE`] per stream.

pub mod extract;
pub mod headers;
pub mod message;
mod scan_report;
pub mod sdp;

pub use extract::{Extractor, is_sip_datagram, may_be_sip, sip_start};
pub use message::{RawMessage, SipMessage};
pub use scan_report::CaptureReport;

/// `s` borrowed from `known` when it is one of those names, else owned: the names SIP and
/// SDP repeat in every call (methods, media kinds, codecs) are not allocated each time.
pub fn intern(s: &str, known: &[&'static str]) -> std::borrow::Cow<'static, str> {
    match known.iter().find(|k| **k == s) {
        Some(k) => std::borrow::Cow::Borrowed(k),
        None => std::borrow::Cow::Owned(s.to_string()),
    }
}
