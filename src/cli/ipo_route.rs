//! The flags of `ipo-route`.

use clap::{Args, ValueEnum};

use super::{RedactArgs, ReportFormat};

/// `ipo-route`: replays IP Office's incoming SIP call routing, for the INVITEs of
/// captures or, with `--dry-run`, for one call described by flags.
#[derive(Debug, Args)]
pub struct IpoRouteArgs {
    /// The IP Office configuration (TOML; see the README, "IP Office incoming call routing").
    #[arg(long, value_name = "FILE")]
    pub config: String,
    /// Captures whose INVITEs to the IP Office's addresses to replay; several are read
    /// merged by time, as analyze reads them (frames numbered through them).
    #[arg(
        value_name = "CAPTURE",
        required_unless_present = "dry_run",
        conflicts_with = "dry_run"
    )]
    pub captures: Vec<String>,
    /// Replay one call described by the flags below instead of a capture.
    #[arg(long, requires_all = ["request_uri", "from", "source"])]
    pub dry_run: bool,
    /// Request-URI of the INVITE.
    #[arg(long, value_name = "USER[@HOST]", requires = "dry_run")]
    pub request_uri: Option<String>,
    /// To URI [default: the Request-URI].
    #[arg(long, value_name = "USER[@HOST]", requires = "dry_run")]
    pub to: Option<String>,
    /// From URI (the caller's CLI).
    #[arg(long, value_name = "USER[@HOST]", requires = "dry_run")]
    pub from: Option<String>,
    /// Where the INVITE came from.
    #[arg(long, value_name = "IP[:PORT]", requires = "dry_run")]
    pub source: Option<String>,
    /// Host of the top Via [default: the source address].
    #[arg(long, value_name = "HOST", requires = "dry_run")]
    pub via: Option<String>,
    /// Transport the INVITE arrived on.
    #[arg(long, value_enum, default_value_t = IpoTransport::Udp)]
    pub transport: IpoTransport,
    /// IP Office port the INVITE was sent to [default: 5060, 5061 for TLS].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// When the call arrived (RFC 3339) [default: now].
    #[arg(long, value_name = "RFC3339", requires = "dry_run")]
    pub at: Option<String>,
    /// A user or group (name or extension) that is busy (repeatable).
    #[arg(long, value_name = "NAME")]
    pub busy: Vec<String>,
    /// Output format: table, JSON (schema_version 1) or markdown.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub redact: RedactArgs,
}

/// SIP transport of a replayed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IpoTransport {
    Udp,
    Tcp,
    Tls,
}
