//! sipdiag reads SIP packet captures and explains why a forwarded ("Follow-Me") or
//! softphone call failed, citing Wireshark frame numbers.
//!
//! Data flows one way; each stage is a module that imports only earlier ones:
//!
//! ```text
//! capture file ──► Frame ──(redact)──► Packet ──► SipMessage ──► Call ──► Finding ──► report
//!   capture                   net         sip          calls      rules      report
//! ```
//!
//! - [`capture`]: pcap / pcapng / gzip / stdin → numbered [`capture::Frame`]s, also from a
//!   file still being written ([`capture::follow`]) or, with the cargo feature `live`, an
//!   interface (`capture::live`); and back to pcapng with comments or a subset of the
//!   frames ([`capture::rewrite`]).
//! - [`redact`] (only with `--redact`): each frame's bytes rewritten with tokens for
//!   numbers, names, hosts and addresses, between `capture` and `net`, so that every
//!   later stage and every output sees only tokens.
//! - [`net`]: link layers, tunnels, IP defragmentation, TCP reassembly → [`net::Packet`]s.
//! - [`sip`]: framing and lenient parsing → [`sip::SipMessage`]s.
//! - [`calls`]: transactions, dialogs, roles and Follow-Me legs → [`calls::Call`]s;
//!   [`calls::retire`] hands each call out once it has ended, so that memory follows the
//!   calls in progress (what `calls` uses on one capture).
//! - [`media`]: STUN, RTP/RTCP streams and softphone flows, matched with the calls' SDP;
//!   a tracker may retire flows, streams and announcements as their calls end (what
//!   `media` uses on one capture, its rows spooled by [`report::media_spool`]).
//! - [`ipoffice`]: Avaya IP Office incoming SIP call routing, replayed from a configuration.
//! - [`numbers`]: number formats, the site profile and the XccDiversionPattern dialect.
//! - [`rules`]: one file per diagnosis rule → [`rules::Finding`]s (the media rules alone:
//!   [`rules::check_media`]). Each rule says what it must see ([`rules::Scope`]): one call
//!   with its linked leg, the whole capture, or the media too.
//! - [`report`]: findings → table, JSON, markdown, HTML (with SVG call ladders).
//! - [`app`]: wires the stages for the commands.
//!
//! Two threads share a scan, without changing that order: the reading thread runs
//! capture, net and SIP framing; the commands' `Sink`s (listing, calls) and, for media,
//! their `PacketSink` (RTP/STUN state, SDP announcements) run on a second thread that
//! receives messages and packets in batches, in capture order (`app::pipeline`). SIP is
//! parsed on whichever side leaves the two threads evenly loaded: the second thread when
//! it only collects messages, the reading thread when it also follows media. Rules and
//! reports run once the scan is complete — except in `sipdiag watch`, whose sink runs the
//! rules of one call ([`rules::Scope::Call`]) on each call as it retires, on the reading
//! thread, and keeps only small aggregates of the calls gone; and in `sipdiag analyze` of
//! one file, which runs the same judge with what the capture has shown so far, checks at
//! the end that the whole capture shows the same, and otherwise reads the file a second
//! time with the roles, site and counts the first reading found (`app::watch::stream`).
//! It judges each unit of calls on a thread beside the reading, again in capture order
//! (`app::watch::units`).
//!
//! No module imports a later stage; a type several stages read lives in the earliest that
//! owns it (the per-file [`sip::CaptureReport`], for instance, is built by the scan, judged
//! by the rules and printed by every report).
#![forbid(unsafe_code)]

pub mod app;
pub mod calls;
pub mod capture;
pub mod cli;
pub mod ipoffice;
pub mod limits;
mod lru;
pub mod media;
pub mod net;
pub mod numbers;
mod par;
pub mod redact;
pub mod report;
pub mod rules;
pub mod sip;
