//! Avaya IP Office incoming SIP call routing, replayed: which line, which SIP URI or line
//! appearance, which incoming call route and which destination IP Office picks for an
//! INVITE, and why a call was ignored or answered busy.
//!
//! Stage: beside the rules, after `sip` (it reads INVITE facts, never bytes).
//! Input: a [`Config`] read from TOML ([`config`]), the facts of one INVITE
//! ([`InviteFacts`]), the IP Office's local time ([`LocalTime`]) and the [`Load`]
//! (sessions in use, busy parties). Output: a [`Decision`] — outcome (ignored / busy with
//! the response code / routed with destination and fallback) and a trace of [`Step`]s,
//! each naming what was compared, with which values, the result and the seed sentence
//! it implements. Invariants: [`route`] is a pure function; it never panics and
//! allocates only in proportion to the configuration and the INVITE.
//!
//! # The seed
//! The four stages (line matching, line call details, incoming call route, destination)
//! follow the vendor page summarised in DOMAIN.md:
//! Avaya, *SIP Incoming Call Routing*, IP Office Web Manager R12.3,
//! <https://documentation.avaya.com/en-us/home/bundle/ip-office/IPOfficeWebManagerR12_3/sip-trunks/SIP_Incoming_Calls/SIP_Incoming_Call_Routing.html>.
//! Service Busy Response (486 by default, 503 in the France2 locale): *SIP Line Advanced*,
//! same manual, `.../SysSettingsLineAddLineSIPAdvanced.html`. Max Sessions (default 10)
//! and Incoming Group of a URI: *SIP URIs*, same manual, `.../FD_SIP_URI.html`; Incoming
//! Sessions of a line appearance: *SIP Line Appearances*, `.../FD_SIP_Line_Appearances.html`.
//! Use Internal Data matching a SIP Name of users and groups with a `.` destination:
//! *Group SIP* settings, same manual, `.../CallMgmtAddGroupsSIP.html`.
//!
//! # Matching semantics the seed leaves open, and where they come from
//! - **Incoming Number is matched right to left** by default: the pattern is aligned
//!   on the right with the received number and every overlapping digit must agree; the
//!   route with the most matching digits and no non-matching digit wins (`677` is used
//!   for a received `77`; `677` does not match `777`, `7` does). A received number shorter
//!   than the pattern is a *potential* match; among potential matches with `X`s the
//!   shorter pattern wins (`8XXX` over `98XXX` for `77`); still equal → the route added
//!   first (`6XXX` before `8XXX` for a 3-digit number).
//!   Sources: Avaya, *B5800 Branch Gateway Manager 10.0 User's Manual* (15-601011 issue
//!   29r, the IP Office Manager text), "Configuration Settings: Incoming Call Route",
//!   examples 3-6, pp. 349-351,
//!   <http://38.142.81.21:8001/manual/avaya/b5800-branch-gateway-manager/user-s-manual-english/page-349.html>;
//!   and *DID Incoming Call Route*, pbxbook.com, <https://pbxbook.com/ipoffice/ipodid.html>
//!   ("By default this is a right-to-left matching").
//! - **`X`** is a single-digit wildcard; no other wildcard (`N`, `?`) exists in
//!   Incoming Number (same manual p. 351). Exact digits count for precision, `X`s do not.
//! - **`-`** in front of the number asks for a left-to-right match of exactly the
//!   pattern's length: `-96XXX` matches `96000`, not `9600` nor `960000` (same sources).
//! - **`*`** in front ("Incoming CLI matching takes precedence", pbxbook.com) is not
//!   modelled: the configuration loader rejects it rather than replay it wrongly.
//! - **Destination `#`** stands for the digits that met the `X`s; `.` for the whole
//!   received number (pbxbook.com).
//! - **Incoming CLI** is matched left to right and may be partial (an area code) for
//!   numbers and SIP/TEL URIs; an IP address must match in full; `!` matches a withheld
//!   caller, `?` an unavailable number. For SIP calls the CLI is the From header, and
//!   for SIP URIs only the user part is used. Sources: same manual pp. 238 ("Incoming Call
//!   Routing" of SIP trunks) and 351.
//! - **Unverified**: (a) the manual also says `91XXXXXXXX` "will only match DID numbers
//!   of at least 10 digits", which contradicts its own examples 5 and 6 (3-digit numbers
//!   potentially matching `6XXX`); the replay follows the examples. (b) How IP Office
//!   weighs a CLI match against exact number digits is not documented beyond "most
//!   criteria, most exact digits"; the replay ranks criteria, then exact number digits,
//!   then CLI length. (c) Local URI "Auto" is taken to accept any called number (like
//!   `*`), as is "Use Internal Data" (which resolves the name at the `.` destination).
//!   (d) A busy destination without a fallback is answered with the line's Service Busy
//!   Response. (e) Association `via-host` compares the top Via host with the ITSP
//!   domain and proxies. (f) An IP address in Incoming CLI is compared with the From
//!   host.

pub mod config;
mod destination;
pub(crate) mod engine;
pub mod matching;
pub mod replay;
pub mod trace;

#[cfg(test)]
mod tests;

pub use config::{Config, ConfigError, Transport};
pub use engine::route;
pub use matching::{LocalTime, parse_rfc3339};
pub use trace::{Decision, Entry, Failure, InviteFacts, Load, Outcome, SipAddr, Step};
