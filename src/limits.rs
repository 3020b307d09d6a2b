//! The caps that keep hostile or huge captures bounded in memory and time.
//!
//! Not a stage: settings read by `net` (TCP reassembly, IP defragmentation), `sip`
//! (framing) and `media` (flow table) when they are created. The command line sets them
//! once, before any capture is read ([`set`]); library users and tests that do nothing get
//! [`Limits::DEFAULT`]. Every cap, when reached, is reported as an anomaly naming it (and
//! rule CAP006 turns that into a finding), never applied silently.

use std::sync::RwLock;

/// The caps, all raisable from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// TCP connections followed at once (each has two directions); beyond, the least
    /// recently active direction is closed.
    pub tcp_connections: usize,
    /// Fragmented IP datagrams under reassembly at once; beyond, the least recently
    /// added-to is dropped.
    pub fragments: usize,
    /// UDP media flows (source → destination) followed at once; beyond, the least
    /// recently active is forgotten.
    pub media_flows: usize,
    /// Largest SIP message (headers and body) read on a stream; a longer body is skipped.
    pub sip_message: usize,
    /// Longest SIP header block read on a stream before it is given up as not SIP.
    pub sip_header: usize,
    /// Calls that have not ended held at once (an INVITE answered only by 100 Trying, a
    /// registration, an established dialog); beyond, the least recently active is let go:
    /// `analyze` drops it from the analysis, `calls` and `watch` retire it early.
    pub calls: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        tcp_connections: 50_000,
        fragments: 4096,
        media_flows: 100_000,
        sip_message: 1 << 20,
        sip_header: 64 << 10,
        calls: 20_000,
    };

    /// `--max-…` flag and meaning of each cap, for the messages that report it.
    pub const TCP_CONNECTIONS: &str = "--max-tcp-connections";
    pub const FRAGMENTS: &str = "--max-fragments";
    pub const MEDIA_FLOWS: &str = "--max-media-flows";
    pub const SIP_MESSAGE: &str = "--max-sip-message";
    pub const SIP_HEADER: &str = "--max-sip-header";
    pub const CALLS: &str = "--max-calls";
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

static CURRENT: RwLock<Limits> = RwLock::new(Limits::DEFAULT);

/// The caps in force.
pub fn current() -> Limits {
    // A poisoned lock still holds a whole `Limits` (it is `Copy`, written in one go).
    *CURRENT.read().unwrap_or_else(|e| e.into_inner())
}

/// Sets the caps for the scans that start afterwards (the command line does, once).
pub fn set(limits: Limits) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = limits;
}

impl crate::cli::LimitArgs {
    /// The caps these flags ask for, defaults where a flag is absent.
    pub fn resolve(&self) -> Limits {
        let d = Limits::DEFAULT;
        let or = |v: Option<u32>, d: usize| v.map_or(d, |v| v as usize);
        Limits {
            tcp_connections: or(self.max_tcp_connections, d.tcp_connections),
            fragments: or(self.max_fragments, d.fragments),
            media_flows: or(self.max_media_flows, d.media_flows),
            sip_message: or(self.max_sip_message, d.sip_message),
            sip_header: or(self.max_sip_header, d.sip_header),
            calls: or(self.max_calls, d.calls),
        }
    }
}

impl crate::cli::Command {
    /// The limit flags of commands that read captures.
    pub fn limits(&self) -> Option<&crate::cli::LimitArgs> {
        use crate::cli::Command;
        match self {
            Command::Messages(a) | Command::Calls(a) => Some(&a.limits),
            Command::Analyze(a) => Some(&a.limits),
            Command::Media(a) => Some(&a.limits),
            Command::Flow(a) => Some(&a.limits),
            Command::Watch(a) => Some(&a.limits),
            _ => None,
        }
    }
}
