//! The `--max-…` flags every command that reads captures takes.

use clap::Args;

/// The caps that keep memory and time bounded on any capture (README, "Limits"). Reaching
/// one is reported (rule CAP006) with the flag that raises it.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// TCP connections followed at once; beyond, the least recently active is closed
    /// [default: 50000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tcp_connections: Option<u32>,
    /// Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and
    /// SCTP messages split over chunks; beyond, the least recently added-to is dropped
    /// [default: 4096].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_fragments: Option<u32>,
    /// UDP media flows followed at once; beyond, the one idle longest is forgotten and
    /// its call's media is not judged [default: 100000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_media_flows: Option<u32>,
    /// Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a
    /// longer message is dropped) [default: 1048576].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sip_message: Option<u32>,
    /// Longest SIP header block on TCP, in bytes; a longer one is given up
    /// [default: 65536].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sip_header: Option<u32>,
    /// Calls not yet ended held at once (INVITEs never answered, registrations,
    /// established dialogs); beyond, the least recently active is let go: dropped from
    /// `analyze`, retired early by `calls` and `watch` [default: 20000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_calls: Option<u32>,
    /// Messages kept in one call's message list (a registration refreshed for days, a
    /// flood under one Call-ID); beyond, the list keeps its first messages and the
    /// latest, and the call's state still follows every message [default: 10000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub max_messages_per_call: Option<u32>,
    /// INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the
    /// call keeps its first and its latest, and responses to those left out are not
    /// matched [default: 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub max_invites_per_call: Option<u32>,
    /// Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the
    /// media of calls still going on is not judged [default: 250000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sdp_announcements: Option<u32>,
    /// RTP streams followed in all; beyond, the media of calls still going on is not
    /// judged [default: 200000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rtp_streams: Option<u32>,
    /// RTP streams (SSRCs) followed on one UDP flow [default: 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rtp_streams_per_flow: Option<u32>,
    /// STUN transactions kept [default: 100000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_stun_transactions: Option<u32>,
    /// TCP directions examined for STUN, up to 70,000 bytes buffered each
    /// [default: 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_stun_tcp_connections: Option<u32>,
    /// Softphone signalling connections followed [default: 10000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_softphone_connections: Option<u32>,
    /// ICMP errors kept as evidence [default: 10000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_icmp_errors: Option<u32>,
    /// Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs
    /// between further pairs are not counted [default: 65536].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_address_pairs: Option<u32>,
    /// Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond,
    /// the first in capture order are kept [default: 20000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_diverting_numbers: Option<u32>,
}
