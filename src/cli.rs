//! The command line, defined once: clap derive types only. Shell completions in
//! `completions/` are generated from [`Cli`] (a test fails when they are stale).

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Reads SIP packet captures and explains why Follow-Me and softphone calls fail.
#[derive(Debug, Parser)]
#[command(name = "sipdiag", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every SIP message with its Wireshark frame number.
    Messages(ReadArgs),
    /// Group SIP messages into calls by Call-ID.
    Calls(ReadArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned table for the terminal.
    Table,
    /// JSON for scripts and ticket systems (see `schema_version`).
    Json,
}

/// Arguments shared by commands that read captures.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
