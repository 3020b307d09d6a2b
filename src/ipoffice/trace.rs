//! What the routing replay says: the steps it took and where the call ended.
//!
//! Input: built by the engine. Output: serialisable data for the renderers and rules.
//! Invariant: every step names the seed sentence it implements, so a reader can check
//! the replay against the vendor's description line by line.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::config::Transport;

/// The facts of one INVITE the routing depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteFacts {
    pub transport: Transport,
    /// The IP Office port the INVITE was sent to.
    pub port: u16,
    pub source: IpAddr,
    pub request_uri: SipAddr,
    /// The To URI; `None` means the same as the Request-URI.
    pub to: Option<SipAddr>,
    pub from: SipAddr,
    /// Host of the top Via, when known.
    pub via_host: Option<String>,
}

/// The user and host parts of a SIP or TEL URI.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipAddr {
    pub user: String,
    pub host: Option<String>,
}

impl SipAddr {
    /// `user@host`, `user`, `sip:user@host;params` or `tel:+49…` → parts (port and
    /// parameters dropped from the host).
    pub fn parse(s: &str) -> SipAddr {
        let s = s.trim().trim_start_matches('<').trim_end_matches('>');
        let s = ["sip:", "sips:", "tel:", "SIP:", "SIPS:", "TEL:"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s);
        let s = s.split(['>', '?']).next().unwrap_or("");
        match s.rsplit_once('@') {
            Some((u, h)) => SipAddr {
                user: u.split(';').next().unwrap_or("").to_string(),
                host: Some(host_only(h).to_string()).filter(|h| !h.is_empty()),
            },
            None => SipAddr {
                user: s.split(';').next().unwrap_or("").to_string(),
                host: None,
            },
        }
    }
}

impl std::fmt::Display for SipAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Some(h) => write!(f, "{}@{h}", self.user),
            None => f.write_str(&self.user),
        }
    }
}

/// `host:port;params` → `host` (IPv6 brackets kept off).
pub(crate) fn host_only(h: &str) -> &str {
    let h = h.split(';').next().unwrap_or("");
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match h.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => h,
    }
}

/// What changes from call to call besides the INVITE: sessions in use and busy parties.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// Sessions in use per (line, entry), overriding the configuration's `in_use`.
    pub in_use: BTreeMap<(u32, Entry), u32>,
    /// Users or groups (name or extension) that are busy, besides those marked `busy`.
    pub busy: BTreeSet<String>,
}

/// A line appearance or a SIP URI, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "id")]
pub enum Entry {
    Appearance(u32),
    Uri(u32),
}

/// One step of the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Which step: `line.protocol`, `line.association`, `uri.called-number`,
    /// `uri.appearance`, `uri.uri`, `route.line-group`, `route.candidate`,
    /// `route.select`, `route.auto-extension`, `destination.time-profile`,
    /// `destination.pair`, `destination.resolve`, `destination.busy`.
    pub step: &'static str,
    /// What was compared, with the values.
    pub compared: String,
    /// `match`, `no-match`, `skipped`, `chosen`, `true`, `false`, `ignored`, `busy`, `routed`.
    pub result: &'static str,
    /// Why, in words.
    pub why: String,
    /// The seed sentence this step implements.
    pub seed: &'static str,
}

/// Where the decision failed, for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// No line matched: the call is ignored.
    Line,
    /// No appearance or URI matched, or all were full.
    Uri,
    /// No incoming call route matched.
    Route,
    /// The destination is busy without a fallback, or blank.
    Destination,
}

/// Where the call ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "outcome")]
pub enum Outcome {
    /// No response at all.
    Ignored,
    /// Answered at once with the line's Service Busy Response.
    Busy { response: u16 },
    /// Presented to a destination.
    Routed,
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Ignored => "ignored",
            Outcome::Busy { .. } => "busy",
            Outcome::Routed => "routed",
        }
    }
    pub fn response(&self) -> Option<u16> {
        match self {
            Outcome::Busy { response } => Some(*response),
            _ => None,
        }
    }
}

/// The replay of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub failure: Option<Failure>,
    pub line: Option<u32>,
    pub uri: Option<u32>,
    pub appearance: Option<u32>,
    /// 0-based index of the incoming call route in file order.
    pub route: Option<usize>,
    /// Where the call goes (the fallback when the main destination was busy).
    pub destination: Option<String>,
    /// The fallback of the destination pair used.
    pub fallback: Option<String>,
    pub steps: Vec<Step>,
}
