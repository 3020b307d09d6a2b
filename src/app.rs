//! Wiring: runs capture → net → sip over each input and hands the results to a [`Sink`].
//!
//! This is the only module that knows every stage. Commands implement [`Sink`] to
//! collect what they need; the scan itself streams and keeps no message.

use serde::Serialize;

use crate::capture::{self, Anomaly, CaptureError, CaptureFormat};
use crate::net::{Datagram, Decoder, IcmpError, Packet, StreamEvent};
use crate::sip::{self, Extractor, SipMessage};

/// Receives what a scan finds, in capture order.
pub trait Sink {
    /// A whole SIP message.
    fn message(&mut self, msg: SipMessage);
    /// A UDP/SCTP datagram that is not SIP (media, STUN, keep-alives …).
    fn datagram(&mut self, _d: &Datagram<'_>) {}
    /// An ICMP error quoting a datagram.
    fn icmp(&mut self, _e: &IcmpError) {}
    /// Ordered TCP data, holes and ends (SIP is extracted separately).
    fn stream(&mut self, _e: &StreamEvent<'_>) {}
}

/// What one input file yielded, for the report's `captures` list.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureReport {
    pub path: String,
    pub format: CaptureFormat,
    pub frames: u64,
    pub sip_messages: u64,
    pub anomalies: Vec<Anomaly>,
}

/// Scans one capture file (`-` = standard input) into `sink`.
pub fn scan(path: &str, sink: &mut dyn Sink) -> Result<CaptureReport, CaptureError> {
    let mut decoder = Decoder::default();
    let mut extractor = Extractor::default();
    let on_packet = |p: Packet<'_>, extractor: &mut Extractor, sink: &mut dyn Sink| match p {
        Packet::Datagram(d) => {
            if sip::is_sip_datagram(d.payload) {
                extractor.datagram(&d, &mut |m| sink.message(m));
            } else {
                sink.datagram(&d);
            }
        }
        Packet::Stream(e) => {
            extractor.stream(&e, &mut |m| sink.message(m));
            sink.stream(&e);
        }
        Packet::Icmp(e) => sink.icmp(&e),
    };
    let summary = capture::read_capture(path, |frame| {
        decoder.decode(frame, &mut |p| on_packet(p, &mut extractor, sink));
    })?;
    decoder.finish(&mut |p| on_packet(p, &mut extractor, sink));
    extractor.finish();
    let mut anomalies = summary.anomalies;
    anomalies.extend(decoder.anomalies());
    anomalies.extend(extractor.anomalies());
    Ok(CaptureReport {
        path: summary.path,
        format: summary.format,
        frames: summary.frames,
        sip_messages: extractor.stats.messages,
        anomalies,
    })
}

use std::io::Write;

use anyhow::Context;

use crate::calls::CallSet;
use crate::cli::{Cli, Command, Format, ReadArgs};
use crate::report::listing::{self, CallRow, MessageRow};

/// Runs a parsed command line; returns the exit code (0/1) or an error (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Messages(args) => messages(args),
        Command::Calls(args) => calls(args),
    }
}

/// Scans every capture; a capture that cannot be read at all stops with an error after
/// the others were read (`partial` lets callers still report what was found).
fn scan_all(paths: &[String], sink: &mut dyn Sink) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match scan(p, sink) {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(e),
        }
    }
    (reports, errors)
}

struct Collect<F: FnMut(SipMessage)>(F);

impl<F: FnMut(SipMessage)> Sink for Collect<F> {
    fn message(&mut self, msg: SipMessage) {
        (self.0)(msg)
    }
}

fn write_out(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints the first unreadable capture as the error, after the report of the others.
fn finish(errors: Vec<CaptureError>) -> anyhow::Result<u8> {
    match errors.into_iter().next() {
        Some(e) => Err(anyhow::Error::new(e)),
        None => Ok(0),
    }
}

fn messages(args: &ReadArgs) -> anyhow::Result<u8> {
    let mut rows = Vec::new();
    let (reports, errors) = scan_all(
        &args.captures,
        &mut Collect(|m: SipMessage| rows.push(MessageRow::from_message(&m))),
    );
    if reports.is_empty() {
        return finish(errors);
    }
    let text = match args.format {
        Format::Json => listing::messages_json(&reports, &rows),
        Format::Table => listing::messages_table(&reports, &rows),
    };
    write_out(&text).context("writing the report")?;
    finish(errors)
}

fn calls(args: &ReadArgs) -> anyhow::Result<u8> {
    let mut set = CallSet::default();
    let (reports, errors) = scan_all(&args.captures, &mut Collect(|m: SipMessage| set.add(&m)));
    if reports.is_empty() {
        return finish(errors);
    }
    let rows: Vec<CallRow> = set.calls.iter().map(CallRow::from_call).collect();
    let text = match args.format {
        Format::Json => listing::calls_json(&reports, &rows),
        Format::Table => listing::calls_table(&reports, &rows),
    };
    write_out(&text).context("writing the report")?;
    finish(errors)
}
