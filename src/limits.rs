//! The caps that keep hostile or huge captures bounded in memory and time.
//!
//! Not a stage: settings read by `net` (TCP reassembly, IP defragmentation, SCTP), `sip`
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
    /// Fragmented IP datagrams under reassembly at once, and SCTP messages split over
    /// chunks (each table its own); beyond, the least recently added-to is dropped.
    pub fragments: usize,
    /// UDP media flows (source → destination) followed at once; beyond, the least
    /// recently active is forgotten.
    pub media_flows: usize,
    /// Largest SIP message (headers and body) read on a stream; a longer body is skipped.
    /// An SCTP message over it is dropped.
    pub sip_message: usize,
    /// Longest SIP header block read on a stream before it is given up as not SIP.
    pub sip_header: usize,
    /// Calls that have not ended held at once (an INVITE answered only by 100 Trying, a
    /// registration, an established dialog); beyond, the least recently active is let go:
    /// `analyze` drops it from the analysis, `calls` and `watch` retire it early.
    pub calls: usize,
    /// Messages kept in one call's message list; beyond, the list keeps its first
    /// messages and the latest (the call's state still follows every message).
    pub messages_per_call: usize,
    /// INVITE transactions kept in one call (re-INVITEs); beyond, the call keeps its
    /// first and its latest (its state still follows every INVITE kept).
    pub invites_per_call: usize,
    /// The media tracker's other tables, each capped by its own flag ([`MediaTable`]).
    pub sdp_announcements: usize,
    pub rtp_streams: usize,
    pub rtp_streams_per_flow: usize,
    pub stun_transactions: usize,
    pub stun_tcp_connections: usize,
    pub softphone_connections: usize,
    pub icmp_errors: usize,
    /// Pairs of addresses whose INVITEs are counted to name the PBXs
    /// (`calls::legs::evidence`); beyond, INVITEs between further pairs are not counted.
    pub address_pairs: usize,
    /// Distinct diverting numbers kept to prove the XccDiversionPattern suggestion on
    /// (`rules::diversions`); beyond, the first in capture order are kept.
    pub diverting_numbers: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        tcp_connections: 50_000,
        fragments: 4096,
        media_flows: 100_000,
        sip_message: 1 << 20,
        sip_header: 64 << 10,
        calls: 20_000,
        messages_per_call: 10_000,
        invites_per_call: 256,
        sdp_announcements: 250_000,
        rtp_streams: 200_000,
        rtp_streams_per_flow: 16,
        stun_transactions: 100_000,
        stun_tcp_connections: 1_000,
        softphone_connections: 10_000,
        icmp_errors: 10_000,
        address_pairs: 1 << 16,
        diverting_numbers: 20_000,
    };

    /// `--max-…` flag and meaning of each cap, for the messages that report it.
    pub const TCP_CONNECTIONS: &str = "--max-tcp-connections";
    pub const FRAGMENTS: &str = "--max-fragments";
    pub const MEDIA_FLOWS: &str = "--max-media-flows";
    pub const SIP_MESSAGE: &str = "--max-sip-message";
    pub const SIP_HEADER: &str = "--max-sip-header";
    pub const CALLS: &str = "--max-calls";
    pub const MESSAGES_PER_CALL: &str = "--max-messages-per-call";
    pub const INVITES_PER_CALL: &str = "--max-invites-per-call";
    pub const ADDRESS_PAIRS: &str = "--max-address-pairs";
    pub const DIVERTING_NUMBERS: &str = "--max-diverting-numbers";
}

/// A table of the media tracker besides the flow table: beyond its cap, new items are not
/// tracked (and reported, rule CAP006).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTable {
    /// Addresses announced by SDP (`c=`/`m=` and UDP ICE candidates), by call.
    SdpAnnouncements,
    /// RTP streams (and stream candidates) in all.
    RtpStreams,
    /// SSRCs followed on one UDP flow.
    RtpStreamsOfAFlow,
    /// STUN transactions.
    StunTransactions,
    /// TCP directions examined for STUN (each buffering up to 70,000 bytes).
    StunTcpConnections,
    /// Softphone signalling connections.
    SoftphoneConnections,
    /// ICMP errors kept as evidence.
    IcmpErrors,
}

impl MediaTable {
    /// The table's name in reports (`item_limits[].table`, CAP006 `limit`).
    pub fn name(self) -> &'static str {
        match self {
            MediaTable::SdpAnnouncements => "sdp-announcements",
            MediaTable::RtpStreams => "rtp-streams",
            MediaTable::RtpStreamsOfAFlow => "rtp-streams-of-a-flow",
            MediaTable::StunTransactions => "stun-transactions",
            MediaTable::StunTcpConnections => "stun-tcp-connections",
            MediaTable::SoftphoneConnections => "softphone-connections",
            MediaTable::IcmpErrors => "icmp-errors",
        }
    }

    /// The flag that raises its cap.
    pub fn flag(self) -> &'static str {
        match self {
            MediaTable::SdpAnnouncements => "--max-sdp-announcements",
            MediaTable::RtpStreams => "--max-rtp-streams",
            MediaTable::RtpStreamsOfAFlow => "--max-rtp-streams-per-flow",
            MediaTable::StunTransactions => "--max-stun-transactions",
            MediaTable::StunTcpConnections => "--max-stun-tcp-connections",
            MediaTable::SoftphoneConnections => "--max-softphone-connections",
            MediaTable::IcmpErrors => "--max-icmp-errors",
        }
    }

    /// Its cap in `limits`.
    pub fn cap(self, limits: &Limits) -> usize {
        match self {
            MediaTable::SdpAnnouncements => limits.sdp_announcements,
            MediaTable::RtpStreams => limits.rtp_streams,
            MediaTable::RtpStreamsOfAFlow => limits.rtp_streams_per_flow,
            MediaTable::StunTransactions => limits.stun_transactions,
            MediaTable::StunTcpConnections => limits.stun_tcp_connections,
            MediaTable::SoftphoneConnections => limits.softphone_connections,
            MediaTable::IcmpErrors => limits.icmp_errors,
        }
    }
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
            messages_per_call: or(self.max_messages_per_call, d.messages_per_call),
            invites_per_call: or(self.max_invites_per_call, d.invites_per_call),
            sdp_announcements: or(self.max_sdp_announcements, d.sdp_announcements),
            rtp_streams: or(self.max_rtp_streams, d.rtp_streams),
            rtp_streams_per_flow: or(self.max_rtp_streams_per_flow, d.rtp_streams_per_flow),
            stun_transactions: or(self.max_stun_transactions, d.stun_transactions),
            stun_tcp_connections: or(self.max_stun_tcp_connections, d.stun_tcp_connections),
            softphone_connections: or(self.max_softphone_connections, d.softphone_connections),
            icmp_errors: or(self.max_icmp_errors, d.icmp_errors),
            address_pairs: or(self.max_address_pairs, d.address_pairs),
            diverting_numbers: or(self.max_diverting_numbers, d.diverting_numbers),
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

#[cfg(test)]
mod tests {
    use super::Limits;
    use clap::CommandFactory;

    /// The `[default: N]` each limit flag's help states is the cap applied without it,
    /// and the README's Limits tables say the same.
    #[test]
    fn documented_defaults_are_the_defaults() {
        let d = Limits::DEFAULT;
        let flags = [
            ("max_tcp_connections", d.tcp_connections),
            ("max_fragments", d.fragments),
            ("max_media_flows", d.media_flows),
            ("max_sip_message", d.sip_message),
            ("max_sip_header", d.sip_header),
            ("max_calls", d.calls),
            ("max_messages_per_call", d.messages_per_call),
            ("max_invites_per_call", d.invites_per_call),
            ("max_sdp_announcements", d.sdp_announcements),
            ("max_rtp_streams", d.rtp_streams),
            ("max_rtp_streams_per_flow", d.rtp_streams_per_flow),
            ("max_stun_transactions", d.stun_transactions),
            ("max_stun_tcp_connections", d.stun_tcp_connections),
            ("max_softphone_connections", d.softphone_connections),
            ("max_icmp_errors", d.icmp_errors),
            ("max_address_pairs", d.address_pairs),
            ("max_diverting_numbers", d.diverting_numbers),
        ];
        let cli = crate::cli::Cli::command();
        let analyze = cli.find_subcommand("analyze").expect("analyze");
        let readme = include_str!("../README.md");
        for (id, value) in flags {
            let arg = (analyze.get_arguments())
                .find(|a| a.get_id() == id)
                .unwrap_or_else(|| panic!("no flag {id}"));
            let help = arg.get_help().expect("help").to_string();
            assert!(
                help.contains(&format!("[default: {value}]")),
                "{id}: help says {help:?}, the default is {value}"
            );
            let flag = format!("`--{} ", id.replace('_', "-"));
            let row = (readme.lines())
                .find(|l| l.starts_with(&format!("| {flag}")))
                .unwrap_or_else(|| panic!("README has no row for {flag}"));
            let readme_value = row.split('|').nth(2).unwrap().trim().replace(',', "");
            assert_eq!(readme_value, value.to_string(), "README row of {flag}");
        }
    }
}
