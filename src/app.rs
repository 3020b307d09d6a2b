//! Wiring: runs capture → net → sip over each input and hands the SIP messages to a
//! [`Sink`] and, for commands that follow media, every other packet to a [`PacketSink`].
//!
//! This is the only module that knows every stage. Commands implement [`Sink`] (and
//! [`PacketSink`]) to collect what they need; the scan itself streams and keeps no
//! message.

use std::io::Write;

use crate::capture::CaptureError;
use crate::cli::{Cli, ColorChoice, Command, PatternCommand};
use crate::media::UdpPayload;
use crate::net::{Datagram, IcmpError, StreamEvent};
use crate::sip::SipMessage;

mod annotate;
mod calls;
mod each;
mod extract;
mod flow;
mod html;
mod ipo_route;
mod merged;
mod pcapng_out;
mod pipeline;
mod progress;
mod rule_choice;
mod watch;

mod analyze;
mod commands;
mod pattern_test;
mod scan;
mod site;

pub use crate::sip::CaptureReport;
pub use scan::{scan, scan_all, scan_all_serial, scan_all_with, scan_raw, scan_with};

use analyze::{
    CallSink, DiagnoseOptions, Diagnosis, analyze, analyze_captures, collect, diagnose, fails,
    render_text,
};
use commands::{explain, media, messages, rules_list};
use merged::scan_again;
use pattern_test::pattern_test;
use scan::{Direct, Emit, OneThread, Replay, read_udp, scan_into};
use site::{infer_site, site_settings};

/// Receives the SIP messages a scan finds, in capture order.
///
/// [`scan_all`] delivers to the sink on a second thread (hence `Send`), in exactly the
/// order a single-threaded [`scan()`] would.
pub trait Sink {
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, _index: usize) {}
    /// Capture time reached a new second, SIP or not: in its place among the messages,
    /// whichever thread the sink runs on.
    fn clock(&mut self, _now: crate::capture::Timestamp) {}
    /// A whole SIP message.
    fn message(&mut self, msg: SipMessage);
    /// What the sink let go of since it was last asked (calls dropped at `--max-calls`).
    /// The two-thread scan frees it on the reading thread, which has time to spare when
    /// a flood keeps this one busy; otherwise it is freed here.
    fn garbage(&mut self) -> Option<Garbage> {
        None
    }
    /// Names each call let go of since the last message (see [`Sink::garbage`]), for the
    /// [`PacketSink`] to forget what it keeps about it.
    fn let_go(&mut self, _gone: &mut dyn FnMut(&str)) {}
    /// Names each call that ended and retired since the last message, for the
    /// [`PacketSink`] to finish what it keeps about it (only sinks that retire calls).
    fn ended(&mut self, _gone: &mut dyn FnMut(&str)) {}
}

/// Values a [`Sink`] no longer needs, to be dropped by another thread.
pub type Garbage = Box<dyn std::any::Any + Send>;

/// Receives the packets a scan finds besides SIP, in capture order, and every SIP message
/// in its place among them: what media analysis follows. It runs beside the [`Sink`],
/// on the same thread (see `app::pipeline`), and sees each message just before the sink
/// receives it.
pub trait PacketSink {
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, _index: usize) {}
    /// A SIP message; the [`Sink`] receives it next. What the packet sink computes on it
    /// and caches in it (its SDP summary) the sink gets with it.
    fn message(&mut self, _m: &SipMessage) {}
    /// A UDP/SCTP datagram that is not SIP (media, STUN, keep-alives …), whole: SCTP, and
    /// UDP whose first byte is in STUN's range (0-3); other UDP arrives through
    /// [`PacketSink::read_datagram`].
    fn datagram(&mut self, _d: &Datagram<'_>) {}
    /// A UDP datagram that is neither SIP nor STUN, its payload read where it was decoded
    /// ([`UdpPayload::read`]) and delivered without its bytes: `d.payload` is empty.
    fn read_datagram(&mut self, _d: &Datagram<'_>, _p: UdpPayload) {}
    /// An ICMP error quoting a datagram.
    fn icmp(&mut self, _e: &IcmpError) {}
    /// Ordered TCP data, holes and ends (SIP is extracted separately).
    fn stream(&mut self, _e: &StreamEvent<'_>) {}
    /// The [`Sink`] let go of this call (at `--max-calls`): what is kept for it can go.
    fn call_gone(&mut self, _call_id: &str) {}
    /// The [`Sink`] retired this call, which has ended.
    fn call_ended(&mut self, _call_id: &str) {}
}

/// Runs a parsed command line; returns the exit code (0/1) or an error (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    if let Some(limits) = cli.command.limits() {
        crate::limits::set(limits.resolve());
    }
    crate::redact::configure(&cli.command)?;
    // Two readers of one standard input would each take part of it.
    anyhow::ensure!(
        cli.command.captures().iter().filter(|c| *c == "-").count() <= 1,
        "standard input (-) is given more than once: it holds one capture"
    );
    match &cli.command {
        Command::Messages(args) => messages(args),
        Command::Calls(args) => calls::calls(args),
        Command::Analyze(args) => {
            let color = use_color(cli.color);
            // comfy-table colours through crossterm, which on its own drops colour whenever
            // NO_COLOR is set, even for an explicit `--color always`.
            crossterm::style::Colored::set_ansi_color_disabled(!color);
            // A Windows console shows ANSI colours only with virtual-terminal processing
            // on, which crossterm switches on (a no-op when stdout is not a console).
            #[cfg(windows)]
            if color {
                crossterm::ansi_support::supports_ansi();
            }
            analyze(args, color)
        }
        Command::Media(args) => media(args),
        Command::Watch(args) => {
            let color = use_color(cli.color);
            crossterm::style::Colored::set_ansi_color_disabled(!color);
            watch::watch(args, color)
        }
        Command::Flow(args) => flow::flow(args),
        Command::Extract(args) => extract::extract(args),
        Command::Rules { format } => rules_list(*format),
        Command::Explain { rule } => explain(rule),
        Command::Pattern(PatternCommand::Test(args)) => pattern_test(args),
        Command::IpoRoute(args) => ipo_route::ipo_route(args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            write_completions(*shell, &mut out);
            write_out(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// Writes the completion script for `shell` (also used to check `completions/`).
pub fn write_completions(shell: clap_complete::Shell, out: &mut Vec<u8>) {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "sipdiag", out);
}

/// `--color`: `auto` colours only on a terminal and when NO_COLOR is unset or empty
/// (<https://no-color.org>); an explicit `always` or `never` wins over NO_COLOR, as that
/// convention asks.
fn use_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn write_out(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `captures` read more than once by `what` (a command or flag): those that can be read
/// only once (standard input, a named pipe) are kept for the readings after the first
/// ([`crate::capture::keep_input`]); an error when one cannot be.
fn read_again(captures: &[String], what: &str) -> anyhow::Result<()> {
    for c in captures {
        let shown = if c == "-" { "standard input" } else { c };
        anyhow::ensure!(
            !crate::capture::read_once(c) || crate::capture::keep_input(c),
            "{what} reads the capture more than once, and {shown} could not be kept for that (no temporary file could be made): save the capture to a file first"
        );
    }
    Ok(())
}

/// After the report of the others, one error line per unreadable capture: all but the
/// last printed here, the last returned as the error (printed by `main`, exit 2).
fn finish(errors: Vec<CaptureError>) -> anyhow::Result<u8> {
    let mut errors = errors.into_iter().peekable();
    while let Some(e) = errors.next() {
        if errors.peek().is_none() {
            return Err(anyhow::Error::new(e));
        }
        eprintln!("sipdiag: {e}");
    }
    Ok(0)
}
