//! The command line, defined once: clap derive types only. Shell completions in
//! `completions/` are generated from [`Cli`] (a test fails when they are stale).
//!
//! The doc comments below are the help texts the terminal shows (`HH:MM[:SS]`, bare
//! addresses), not rustdoc prose.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

mod ipo_route;
mod limits;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use ipo_route::{IpoRouteArgs, IpoTransport};
pub use limits::LimitArgs;

/// Reads SIP packet captures and explains why Follow-Me and softphone calls fail.
#[derive(Debug, Parser)]
#[command(
    name = "sipdiag",
    // Usage lines say `sipdiag` however the binary is named (`sipdiag.exe` on Windows).
    bin_name = "sipdiag",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = EXAMPLES_MAIN
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to colour the output (as in ls, grep and cargo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org).
    Auto,
    /// Always, even into a pipe or a file, and whatever NO_COLOR says.
    Always,
    /// Never.
    Never,
}

// The examples ending each command's `--help` (clap `after_help`).
const EXAMPLES_MAIN: &str = "\
Examples:
  sipdiag analyze trunk.pcap
  sipdiag analyze --site site.toml --format markdown trunk.pcapng > ticket.md
  sipdiag explain FM002";
const EXAMPLES_MESSAGES: &str = "\
Examples:
  sipdiag messages trunk.pcap
  sipdiag messages --format json trunk.pcapng.gz > messages.json
  tcpdump -i any -s 0 -U -w - | sipdiag messages -";
const EXAMPLES_CALLS: &str = "\
Examples:
  sipdiag calls trunk.pcap
  sipdiag calls --format json pbx-side.pcap xcc-side.pcap";
const EXAMPLES_ANALYZE: &str = "\
Examples:
  sipdiag analyze --site site.toml --xcc 10.0.0.20:5060 --fail-on warning pbx.pcap xcc.pcapng
  sipdiag analyze --format html -o report.html trunk.pcap
  sipdiag analyze --each --format markdown tickets/ > tickets.md";
const EXAMPLES_MEDIA: &str = "\
Examples:
  sipdiag media softphone.pcapng
  sipdiag media --server-media-ports 40000-41000 --format json call.pcap";
const EXAMPLES_EXTRACT: &str = "\
Examples:
  sipdiag extract --call-id 'a84b4c76e66710@pbx' -o call.pcapng trunk.pcap
  sipdiag extract --number +4930123456 -o ticket-4711.pcapng pbx-side.pcapng.gz";
const EXAMPLES_RULES: &str = "\
Examples:
  sipdiag rules
  sipdiag rules --format json";
const EXAMPLES_EXPLAIN: &str = "\
Examples:
  sipdiag explain FM002
  sipdiag explain diversion-format";
const EXAMPLES_PATTERN: &str = "\
Examples:
  sipdiag pattern test --rewrite '^00(\\d+)$=>+$1' --value 004930123456
  sipdiag pattern test --rewrite '^0(\\d+)$=>+49$1' --country-code 49 trunk.pcap";
const EXAMPLES_FLOW: &str = "\
Examples:
  sipdiag flow trunk.pcap --number +4930123456
  sipdiag flow trunk.pcap --call-id 'a84b4c76e66710@pbx' --format mermaid
  COLUMNS=80 sipdiag flow trunk.pcap --since 10:32 --until 10:35 --format markdown";
const EXAMPLES_IPO_ROUTE: &str = "\
Examples:
  sipdiag ipo-route --config testdata/ipoffice/example.toml testdata/ipoffice/ipo-busy-486.pcap
  sipdiag ipo-route --config ipo.toml --dry-run --request-uri 4930555201 --from +4940123777 --source 127.0.0.1";
const EXAMPLES_WATCH: &str = "\
Examples:
  sipdiag watch --follow trunk.pcap --xcc 10.0.0.20     (beside: tcpdump -C 100 -w trunk.pcap port 5060)
  sipdiag watch --format json day.pcap day.pcap1 day.pcap2
  sipdiag watch -i eth0 udp port 5060 --until-idle 600  (a build with --features live)";
const EXAMPLES_COMPLETIONS: &str = "\
Examples:
  sipdiag completions bash > /etc/bash_completion.d/sipdiag
  sipdiag completions zsh > ~/.zfunc/_sipdiag
  sipdiag completions fish > ~/.config/fish/completions/sipdiag.fish";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every SIP message with its Wireshark frame number.
    #[command(after_help = EXAMPLES_MESSAGES)]
    Messages(ReadArgs),
    /// Group SIP messages into calls by Call-ID.
    #[command(after_help = EXAMPLES_CALLS)]
    Calls(ReadArgs),
    /// Diagnose failed Follow-Me and softphone calls: findings with frames and fixes.
    #[command(after_help = EXAMPLES_ANALYZE)]
    Analyze(AnalyzeArgs),
    /// STUN transactions and RTP/RTCP streams.
    #[command(after_help = EXAMPLES_MEDIA)]
    Media(MediaArgs),
    /// Draw calls as a ladder: one column per host, both Follow-Me legs in one time order,
    /// the frames that findings cite marked.
    #[command(after_help = EXAMPLES_FLOW)]
    Flow(FlowArgs),
    /// Cut the selected call out of the captures as pcapng: its SIP and its linked
    /// Follow-Me leg's, with their media (RTP/RTCP/STUN to and from the addresses their SDP
    /// announced, while the call lasts).
    #[command(after_help = EXAMPLES_EXTRACT)]
    Extract(ExtractArgs),
    /// Judge each call as soon as it has ended, while the capture is read (or still being
    /// written, with --follow): its findings, its media's included, printed then, memory
    /// held only for the calls in progress; the rules that compare calls and the
    /// softphone's ICE rules report at the end.
    #[command(after_help = EXAMPLES_WATCH)]
    Watch(WatchArgs),
    /// List the diagnosis rules.
    #[command(after_help = EXAMPLES_RULES)]
    Rules {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print the documentation of one rule (id or slug).
    #[command(after_help = EXAMPLES_EXPLAIN)]
    Explain {
        /// The rule's id (e.g. FM002) or slug (e.g. diversion-format); see `sipdiag rules`.
        #[arg(value_name = "RULE")]
        rule: String,
    },
    /// Work with XccDiversionPattern rewrites.
    #[command(subcommand, after_help = EXAMPLES_PATTERN)]
    Pattern(PatternCommand),
    /// Replay Avaya IP Office's routing of incoming SIP calls from its configuration.
    #[command(after_help = EXAMPLES_IPO_ROUTE)]
    IpoRoute(IpoRouteArgs),
    /// Print a shell completion script.
    #[command(hide = true, after_help = EXAMPLES_COMPLETIONS)]
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The captures a command reads, as given (`-`: standard input).
    pub fn captures(&self) -> &[String] {
        match self {
            Command::Messages(a) | Command::Calls(a) => &a.captures,
            Command::Analyze(a) => &a.captures,
            Command::Media(a) => &a.captures,
            Command::Flow(a) => &a.captures,
            Command::Extract(a) => &a.captures,
            Command::Watch(a) => &a.captures,
            Command::IpoRoute(a) => &a.captures,
            Command::Pattern(PatternCommand::Test(a)) => &a.captures,
            _ => &[],
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PatternCommand {
    /// Apply a rewrite to header values / numbers, or to every Diversion/History-Info
    /// number in captures, and show before → after.
    #[command(after_help = EXAMPLES_PATTERN)]
    Test(PatternTestArgs),
}

#[derive(Debug, Args)]
pub struct PatternTestArgs {
    /// The rewrite, as 'REGEX=>REPLACEMENT' (e.g. '^00(\d+)$=>+$1'); repeat to try several in order.
    #[arg(long, required = true, value_name = "REGEX=>REPLACEMENT")]
    pub rewrite: Vec<String>,
    /// A number or a whole header value (e.g. '<sip:004930123@pbx>;reason=unconditional').
    #[arg(long, value_name = "HEADER_OR_NUMBER", conflicts_with = "captures")]
    pub value: Vec<String>,
    /// Captures whose Diversion/History-Info numbers to rewrite.
    #[arg(value_name = "CAPTURE")]
    pub captures: Vec<String>,
    #[command(flatten)]
    pub site: SiteArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Hold every call of the captures until the end and read them once, instead of
    /// reading them as a stream (the site inferred as `analyze` infers it, then the
    /// numbers): memory then grows with the captures. The result is the same.
    #[arg(long)]
    pub in_memory: bool,
}

/// Facts about the customer's dialling plan.
#[derive(Debug, Args, Default, Clone)]
pub struct SiteArgs {
    /// Site profile (TOML): country_code, area_code, internal_length, outside_prefix,
    /// known_users, current_pattern, softphone_port, server_media_ports, client_media_ports.
    #[arg(long, value_name = "FILE")]
    pub site: Option<String>,
    /// Country calling code, e.g. 49.
    #[arg(long, value_name = "CC")]
    pub country_code: Option<String>,
    /// Area code without the leading 0, e.g. 30.
    #[arg(long, value_name = "CODE")]
    pub area_code: Option<String>,
    /// Length of internal numbers, e.g. 3.
    #[arg(long, value_name = "N")]
    pub internal_length: Option<usize>,
    /// Outside-line prefix, e.g. 0.
    #[arg(long, value_name = "DIGITS")]
    pub outside_prefix: Option<String>,
    /// A number that belongs to an XPhone user (repeatable).
    #[arg(long = "known-user", value_name = "NUMBER")]
    pub known_users: Vec<String>,
    /// The XccDiversionPattern configured today, to build the suggestion on.
    #[arg(long, value_name = "VALUE")]
    pub current_pattern: Option<String>,
}

/// Media port settings.
#[derive(Debug, Args, Default, Clone)]
pub struct MediaPortArgs {
    /// TCP port of the softphone signalling [default: 2230].
    #[arg(long, value_name = "PORT")]
    pub softphone_port: Option<u16>,
    /// Server (XCC) media UDP range [default: 30000-33000].
    #[arg(long, value_name = "LOW-HIGH")]
    pub server_media_ports: Option<String>,
    /// Client (softphone) media UDP range [default: 49152-65535].
    #[arg(long, value_name = "LOW-HIGH")]
    pub client_media_ports: Option<String>,
}

#[derive(Debug, Args)]
pub struct MediaArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub focus: FocusArgs,
    #[command(flatten)]
    pub ports: MediaPortArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Severity threshold for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Info,
    None,
}

/// Report format of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Table for the terminal (colour as `--color` says).
    Table,
    /// JSON (schema_version 2) for ticket systems and scripts.
    Json,
    /// Markdown for pasting into tickets.
    Markdown,
    /// One self-contained HTML page with an SVG ladder per failed call (analyze only).
    Html,
}

/// How `analyze` and `watch` judge: which rules, which severity fails the run, and who is
/// who on the trunk.
#[derive(Debug, Args, Default, Clone)]
pub struct JudgeArgs {
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Run only these rules (ids or slugs, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Skip these rules (ids or slugs).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Override a rule's severity, e.g. SIP001=error (repeatable).
    #[arg(long = "severity", value_name = "RULE=LEVEL")]
    pub severity: Vec<String>,
    /// XCC's address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference
    /// (for `watch`, recommended: without it, XCC is known only once a call has shown it).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub xcc: Vec<String>,
    /// The PBX's address (ADDR or ADDR:PORT). Overrides inference.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub pbx: Vec<String>,
    /// An IP Office address (repeatable): its incoming calls are checked (IPO rules).
    #[arg(long, value_name = "ADDR")]
    pub ipo: Vec<std::net::IpAddr>,
    /// The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing.
    #[arg(long, value_name = "FILE")]
    pub ipo_config: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// After the report (table or markdown), draw the ladder of each failed call with its
    /// linked leg (as `sipdiag flow`).
    #[arg(long)]
    pub flow: bool,
    /// Analyse each capture on its own, several at a time (a directory: every capture file
    /// in it and below): one report per file, then a summary table; the exit code is the
    /// worst file's.
    #[arg(long)]
    pub each: bool,
    /// Every finding of each group, every healthy call and whole Call-IDs (JSON always
    /// has them all).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Also write the capture to this file as pcapng, with a packet comment
    /// `sipdiag ID slug: title` on every frame a finding cites (Wireshark: frame.comment).
    /// Takes one capture: it is read again once the findings are known (standard input or
    /// a named pipe from a copy kept in the temporary directory).
    #[arg(long, value_name = "OUT.pcapng")]
    pub annotate: Option<String>,
    /// Hold every call until the end and read the capture once, instead of judging each
    /// call as it ends (and reading the capture again when its end contradicts what its
    /// first calls were judged with): memory then grows with the capture. The report is
    /// the same. Several files are read merged, as a stream too; --ipo-config holds every
    /// call only when no IP Office address is known before (none in its file, no --ipo);
    /// standard input and a named pipe are kept for a second reading (copied
    /// to the temporary directory, or read where they lie when redirected from a file;
    /// held whole when neither can be, or when among several files).
    #[arg(long)]
    pub in_memory: bool,
    #[command(flatten)]
    pub focus: FocusArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub ports: MediaPortArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Output format of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// A block of text per failed call (colour as `--color` says).
    Table,
    /// JSON Lines: one object per judged call with findings, and one at the end.
    Json,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Capture files read one after another as one stream (a rotated set, in order).
    /// With -i: a capture filter in tcpdump's syntax instead, e.g. `udp port 5060`.
    #[arg(
        value_name = "CAPTURE",
        required_unless_present_any = ["follow", "interface"],
        conflicts_with = "follow"
    )]
    pub captures: Vec<String>,
    /// Capture live from this network interface through libpcap (root or CAP_NET_RAW);
    /// needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle`
    /// says.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "follow"
    )]
    pub interface: Option<String>,
    /// A capture file still being written (`tcpdump -w`): read as it grows, and on into the
    /// next file of its rotated set (`tcpdump -C`/`-G`). Stops at Ctrl-C, or as
    /// `--until-idle` says.
    #[arg(long, value_name = "CAPTURE")]
    pub follow: Option<String>,
    /// With --follow: stop once the file has not grown for SECS seconds and no next file
    /// of its set has appeared; with -i: once no packet has come for SECS seconds. Without
    /// it, Ctrl-C stops the same way (the calls in progress are judged, the summary printed).
    #[arg(long, value_name = "SECS")]
    pub until_idle: Option<f64>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = WatchFormat::Table)]
    pub format: WatchFormat,
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Also the healthy calls, and whole Call-IDs.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// TCP port of the softphone signalling, which the watch notes (it judges SIP calls
    /// only) [default: 2230].
    #[arg(long, value_name = "PORT")]
    pub softphone_port: Option<u16>,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl WatchArgs {
    /// The files read: the followed one, or the captures given.
    pub fn inputs(&self) -> Vec<String> {
        match (&self.follow, &self.interface) {
            (Some(f), _) => vec![f.clone()],
            (None, Some(_)) => Vec::new(),
            (None, None) => self.captures.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); each is read three times
    /// (calls, media, copy; one file once or twice more before, to find the selected
    /// calls as analyze does; standard input or a named pipe from a copy kept in the
    /// temporary directory).
    /// Several files give one pcapng section each, in the order of their first frames.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// The pcapng file to write.
    #[arg(long, short = 'o', value_name = "OUT.pcapng")]
    pub output: String,
    #[command(flatten)]
    pub focus: FocusArgs,
    /// XCC's address (ADDR or ADDR:PORT), as for analyze (it decides which legs link).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub xcc: Vec<String>,
    /// The PBX's address (ADDR or ADDR:PORT), as for analyze.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub pbx: Vec<String>,
    #[command(flatten)]
    pub redact: RedactArgs,
    /// Hold every call of the first reading and select from them, instead of finding the
    /// selected calls as analyze does, as a stream, and then holding only those: memory
    /// then grows with the capture. The extract is the same. Several files always hold
    /// every call.
    #[arg(long)]
    pub in_memory: bool,
}

/// Which calls to show: every criterion given must hold (repeat a flag for alternatives);
/// a selected Follow-Me leg always brings its linked leg.
#[derive(Debug, Args, Default, Clone)]
pub struct FocusArgs {
    /// Only the call with this Call-ID (repeatable).
    #[arg(long = "call-id", value_name = "ID")]
    pub call_id: Vec<String>,
    /// Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity,
    /// Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable).
    #[arg(long, value_name = "DIGITS")]
    pub number: Vec<String>,
    /// Only calls with a message from or to this address (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub ip: Vec<std::net::IpAddr>,
    /// Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the
    /// capture's first day.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only calls that started at or before this time (as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// Ladder formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowFormat {
    /// Text ladder fitted to the terminal width (COLUMNS honoured).
    Text,
    /// The text ladder in a Markdown code block, for tickets.
    Markdown,
    /// A Mermaid sequenceDiagram.
    Mermaid,
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FlowFormat::Text)]
    pub format: FlowFormat,
    #[command(flatten)]
    pub focus: FocusArgs,
    /// XCC's address (ADDR or ADDR:PORT), as for analyze.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub xcc: Vec<String>,
    /// The PBX's address (ADDR or ADDR:PORT), as for analyze.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub pbx: Vec<String>,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub ports: MediaPortArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Hold every call until the end and read the file once, instead of judging each call
    /// as it ends and reading the file again for the messages of the calls drawn: memory
    /// then grows with the capture. The ladder is the same. Several files are read merged,
    /// as a stream too; standard input and a named pipe are kept for the second reading
    /// (copied to the temporary directory, or read where they lie when redirected from a
    /// file; held whole when neither can be, or when among several files).
    #[arg(long)]
    pub in_memory: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned table for the terminal.
    Table,
    /// JSON for scripts and ticket systems (see `schema_version`).
    Json,
}

/// `--redact`: for reports that leave the company.
#[derive(Debug, Args, Default, Clone)]
pub struct RedactArgs {
    /// Replace phone numbers, SIP user parts, display names, host names, IP and MAC
    /// addresses by consistent tokens of the same length and format (`+49…` stays `+49…`,
    /// `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other
    /// payloads; findings and frame numbers stay the same. Capture paths print as
    /// `capture-N`.
    #[arg(long)]
    pub redact: bool,
    /// With --redact: derive the tokens from KEY, so that runs with the same KEY give the
    /// same tokens [default: a random key per run].
    #[arg(
        long,
        value_name = "KEY",
        env = "SIPDIAG_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,
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
    /// Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds
    /// since the first message listed) or delta (since the previous one), as in Wireshark.
    #[arg(long, value_enum, default_value_t = TimeArg::Absolute)]
    pub time: TimeArg,
    #[command(flatten)]
    pub focus: FocusArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// How the messages listing shows time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeArg {
    Absolute,
    Relative,
    Delta,
}
