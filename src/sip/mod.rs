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
pub mod sdp;

pub use extract::{Extractor, is_sip_datagram, may_be_sip, sip_start};
pub use message::{RawMessage, SipMessage};
