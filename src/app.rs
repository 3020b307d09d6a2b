//! Wiring: runs capture → net → sip over each input and hands the SIP messages to a
//! [`Sink`] and, for commands that follow media, every other packet to a [`PacketSink`].
//!
//! This is the only module that knows every stage. Commands implement [`Sink`] (and
//! [`PacketSink`]) to collect what they need; the scan itself streams and keeps no
//! message.

use std::io::Write;

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::legs::{Endpoint, infer_roles, link_legs};
use crate::capture::{self, CaptureError};
use crate::cli::{
    AnalyzeArgs, Cli, ColorChoice, Command, FailOn, FocusArgs, Format, MediaArgs, MediaPortArgs,
    PatternCommand, PatternTestArgs, ReadArgs, ReportFormat, SiteArgs,
};
use crate::media::{MediaSettings, MediaTracker, UdpPayload};
use crate::net::{Datagram, Decoder, IcmpError, Packet, StreamEvent};
use crate::numbers::Site;
use crate::report::analysis::{self, Analysis, CallSummary};
use crate::report::listing;
use crate::rules::{self, RuleInfo, Severity};
use crate::sip::{self, Extractor, RawMessage, SipMessage};

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

/// Receives the SIP messages a scan finds, in capture order.
///
/// [`scan_all`] delivers to the sink on a second thread (hence `Send`), in exactly the
/// order a single-threaded [`scan`] would.
pub trait Sink {
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, _index: usize) {}
    /// A whole SIP message.
    fn message(&mut self, msg: SipMessage);
}

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
}

/// Lends the packet sink out again (shortening the trait object's lifetime, which
/// `Option::as_deref_mut` cannot).
fn relend<'a>(p: &'a mut Option<&mut dyn PacketSink>) -> Option<&'a mut dyn PacketSink> {
    match p {
        Some(p) => Some(&mut **p),
        None => None,
    }
}

/// UDP that is not STUN, read here ([`UdpPayload::read`]) and stripped of its payload
/// for [`PacketSink::read_datagram`]: media needs nothing more of the bytes, and so they
/// do not travel to the thread the packet sink runs on (a cache line per RTP packet).
/// `None`: the datagram goes whole to [`PacketSink::datagram`].
fn read_udp<'a>(d: &Datagram<'a>) -> Option<(Datagram<'a>, UdpPayload)> {
    if d.transport != crate::net::Transport::Udp {
        return None;
    }
    let p = UdpPayload::read(d.payload)?;
    Some((Datagram { payload: &[], ..*d }, p))
}

/// A parsed message to the packet sink, then to the sink.
fn hand_over(m: SipMessage, sink: &mut dyn Sink, packets: Option<&mut dyn PacketSink>) {
    if let Some(p) = packets {
        p.message(&m);
    }
    sink.message(m);
}

/// Where the scan of one file sends what it finds: the seam between the reading thread
/// and the sinks (see [`pipeline`]).
trait Emit {
    /// Whether packets besides SIP are wanted: without, the decoder drops them early.
    fn wants_packets(&self) -> bool;
    /// The input file with this index (in the order given) starts.
    fn capture_start(&mut self, _index: usize) {}
    /// A framed SIP message.
    fn raw(&mut self, m: RawMessage<'_>);
    fn datagram(&mut self, d: &Datagram<'_>);
    fn icmp(&mut self, e: &IcmpError);
    fn stream(&mut self, e: &StreamEvent<'_>);
}

/// Parses in place and hands everything straight to the sinks (one thread).
struct Direct<'s> {
    sink: &'s mut dyn Sink,
    packets: Option<&'s mut dyn PacketSink>,
}

impl Emit for Direct<'_> {
    fn wants_packets(&self) -> bool {
        self.packets.is_some()
    }
    fn capture_start(&mut self, index: usize) {
        self.sink.capture_start(index);
        if let Some(p) = relend(&mut self.packets) {
            p.capture_start(index);
        }
    }
    fn raw(&mut self, m: RawMessage<'_>) {
        if let Some(m) = m.parse() {
            hand_over(m, self.sink, relend(&mut self.packets));
        }
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        if let Some(p) = relend(&mut self.packets) {
            match read_udp(d) {
                Some((d, read)) => p.read_datagram(&d, read),
                None => p.datagram(d),
            }
        }
    }
    fn icmp(&mut self, e: &IcmpError) {
        if let Some(p) = relend(&mut self.packets) {
            p.icmp(e);
        }
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        if let Some(p) = relend(&mut self.packets) {
            p.stream(e);
        }
    }
}

pub use crate::sip::CaptureReport;

/// Hands each framed SIP message on unparsed, with its bytes.
struct Raw<'f>(&'f mut dyn FnMut(RawMessage<'_>));

impl Emit for Raw<'_> {
    fn wants_packets(&self) -> bool {
        false
    }
    fn raw(&mut self, m: RawMessage<'_>) {
        (self.0)(m)
    }
    fn datagram(&mut self, _: &Datagram<'_>) {}
    fn icmp(&mut self, _: &IcmpError) {}
    fn stream(&mut self, _: &StreamEvent<'_>) {}
}

/// Scans one capture file and hands every SIP message to `each` as framed, before parsing
/// ([`RawMessage::parse`] gives sipdiag's reading): the bytes a second parser needs to be
/// compared with sipdiag's.
pub fn scan_raw(
    path: &str,
    each: &mut dyn FnMut(RawMessage<'_>),
) -> Result<CaptureReport, CaptureError> {
    scan_into(path, &mut Raw(each))
}

/// Scans one capture file (`-` = standard input) into `sink`, on the calling thread.
/// Only SIP is looked at.
pub fn scan(path: &str, sink: &mut dyn Sink) -> Result<CaptureReport, CaptureError> {
    scan_into(
        path,
        &mut Direct {
            sink,
            packets: None,
        },
    )
}

/// [`scan`], with every other packet handed to `packets`.
pub fn scan_with(
    path: &str,
    sink: &mut dyn Sink,
    packets: &mut dyn PacketSink,
) -> Result<CaptureReport, CaptureError> {
    scan_into(
        path,
        &mut Direct {
            sink,
            packets: Some(packets),
        },
    )
}

/// The stages up to SIP framing over one file: SIP messages and, when wanted, every other
/// packet go to `emit` (when not, non-SIP datagrams are dropped early).
fn scan_into(path: &str, emit: &mut dyn Emit) -> Result<CaptureReport, CaptureError> {
    let mut decoder = Decoder::default();
    let mut extractor = Extractor::default();
    let packets = emit.wants_packets();
    if !packets {
        // Only SIP is wanted: other datagrams are dropped in the decoder.
        decoder.keep_datagrams(sip::may_be_sip);
    }
    let mut on_packet = |p: Packet<'_>, extractor: &mut Extractor| match p {
        Packet::Datagram(d) => {
            if let Some(start) = sip::sip_start(d.payload) {
                extractor.datagram(&d, start, &mut |m| emit.raw(m));
            } else if packets {
                emit.datagram(&d);
            }
        }
        Packet::Stream(e) => {
            extractor.stream(&e, &mut |m| emit.raw(m));
            if packets {
                emit.stream(&e);
            }
        }
        Packet::Icmp(e) => {
            if packets {
                emit.icmp(&e);
            }
        }
    };
    let mut progress = progress::Progress::new(path);
    // `--redact`: the frame's bytes rewritten before any stage reads them.
    let mut redactor = crate::redact::active();
    let summary = capture::read_capture(path, |frame| {
        let redacted;
        let frame = match redactor.as_mut() {
            Some(r) => {
                redacted = capture::Frame {
                    data: r.frame_reused(frame.linktype, frame.data),
                    ..*frame
                };
                &redacted
            }
            None => frame,
        };
        decoder.decode(frame, &mut |p| on_packet(p, &mut extractor));
        if let Some(p) = progress.as_mut() {
            p.frame(frame.number, frame.data.len(), extractor.stats.messages);
        }
    });
    if let Some(p) = progress {
        p.finish();
    }
    let summary = summary?;
    decoder.finish(&mut |p| on_packet(p, &mut extractor));
    extractor.finish();
    let mut anomalies = summary.anomalies;
    anomalies.extend(decoder.anomalies());
    anomalies.extend(extractor.anomalies());
    Ok(CaptureReport {
        path: crate::redact::shown_path(&summary.path),
        format: summary.format,
        frames: summary.frames,
        sip_messages: extractor.stats.messages,
        anomalies,
        sip_fragmented: extractor.stats.fragmented.into_values().collect(),
    })
}

/// Runs a parsed command line; returns the exit code (0/1) or an error (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    if let Some(limits) = cli.command.limits() {
        crate::limits::set(limits.resolve());
    }
    crate::redact::configure(&cli.command)?;
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

/// Calls, media and anomalies of a set of captures: what rules need.
struct Collected {
    set: CallSet,
    media: MediaTracker,
}

/// The calls, built on the sink thread.
impl Sink for CallSet {
    fn capture_start(&mut self, index: usize) {
        self.capture = index;
    }
    fn message(&mut self, msg: SipMessage) {
        self.add(msg);
    }
}

/// The media: SDP is read from the messages (and kept in them for the calls).
impl PacketSink for MediaTracker {
    fn message(&mut self, m: &SipMessage) {
        if let Some(sdp) = m.sdp() {
            match m.call_id() {
                Some(id) => self.announce(id, sdp, m.frame),
                // Under the same made-up key as its call (see `CallSet::add`).
                None => self.announce(&crate::calls::NoCallIdKey::of(m).call_key(), sdp, m.frame),
            }
        }
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        MediaTracker::datagram(self, d);
    }
    fn read_datagram(&mut self, d: &Datagram<'_>, p: UdpPayload) {
        MediaTracker::read_datagram(self, d, p);
    }
    fn icmp(&mut self, e: &IcmpError) {
        MediaTracker::icmp(self, e);
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        MediaTracker::stream(self, e);
    }
}

/// Scans the captures into calls and media, recording on each call which file carried it.
fn collect(
    paths: &[String],
    settings: MediaSettings,
) -> (Collected, Vec<CaptureReport>, Vec<CaptureError>) {
    let mut col = Collected {
        set: CallSet::default(),
        media: MediaTracker::new(settings),
    };
    let (reports, errors) = scan_all_with(paths, &mut col.set, &mut col.media);
    (col, reports, errors)
}

/// Names the file each finding's frame numbers belong to: the call's file, or the only
/// file of the run; findings that span files keep `None`.
fn attach_captures(
    findings: &mut [rules::Finding],
    calls: &[crate::calls::Call],
    legs: &crate::calls::legs::Legs,
    paths: &[String],
) {
    for f in findings.iter_mut().filter(|f| f.capture.is_none()) {
        let from_call = f
            .call_id
            .as_ref()
            .and_then(|id| calls.get(legs.position(id)?).filter(|c| &c.call_id == id))
            .and_then(|c| match c.captures.as_slice() {
                [one] => paths.get(*one).map(|p| crate::redact::shown_path(p)),
                _ => None,
            });
        f.capture = from_call.or_else(|| match paths {
            [only] => Some(crate::redact::shown_path(only)),
            _ => None,
        });
    }
}

fn parse_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = s
        .split_once('-')
        .with_context(|| format!("port range {s:?} is not LOW-HIGH"))?;
    let (a, b): (u16, u16) = (
        a.trim()
            .parse()
            .with_context(|| format!("port range {s:?}"))?,
        b.trim()
            .parse()
            .with_context(|| format!("port range {s:?}"))?,
    );
    anyhow::ensure!(a <= b, "port range {s:?}: low end above high end");
    Ok((a, b))
}

/// The `--site` file: the [`Site`] facts and the media ports. Unknown keys are errors (a
/// misspelt key would otherwise be ignored silently), and the numeric facts may be written
/// as TOML numbers or strings (`country_code = 49` or `"49"`).
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SiteFile {
    #[serde(deserialize_with = "digits::opt")]
    country_code: Option<String>,
    #[serde(deserialize_with = "digits::opt")]
    area_code: Option<String>,
    #[serde(deserialize_with = "digits::opt_count")]
    internal_length: Option<usize>,
    #[serde(deserialize_with = "digits::opt")]
    outside_prefix: Option<String>,
    #[serde(deserialize_with = "digits::list")]
    known_users: Vec<String>,
    current_pattern: Option<String>,
    softphone_port: Option<u16>,
    server_media_ports: Option<String>,
    client_media_ports: Option<String>,
}

impl SiteFile {
    fn site(&self) -> Site {
        Site {
            country_code: self.country_code.clone(),
            area_code: self.area_code.clone(),
            internal_length: self.internal_length,
            outside_prefix: self.outside_prefix.clone(),
            known_users: self.known_users.clone(),
            current_pattern: self.current_pattern.clone(),
            ..Site::default()
        }
    }
}

/// Site-file values that are digits, written as a TOML number or a string.
mod digits {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Digits {
        Number(u64),
        Text(String),
    }

    impl Digits {
        fn text(self) -> String {
            match self {
                Digits::Number(n) => n.to_string(),
                Digits::Text(s) => s,
            }
        }
    }

    pub(super) fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(
            Digits::deserialize(d)
                .map_err(|_| D::Error::custom("expected digits, as a number or a string"))?
                .text(),
        ))
    }

    pub(super) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        let text = opt(d)?.unwrap_or_default();
        text.trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a count, got {text:?}")))
    }

    pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let v = Vec::<Digits>::deserialize(d)
            .map_err(|_| D::Error::custom("expected a list of numbers, as numbers or strings"))?;
        Ok(v.into_iter().map(Digits::text).collect())
    }
}

/// Site facts and media settings: file first, flags override.
fn site_settings(args: &SiteArgs, ports: &MediaPortArgs) -> anyhow::Result<(Site, MediaSettings)> {
    let mut file = SiteFile::default();
    if let Some(path) = &args.site {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{path}: cannot read the site file"))?;
        file = toml::from_str(&text).map_err(|e| {
            // One line: toml's own Display quotes the source over several lines.
            let at = e
                .span()
                .and_then(|s| {
                    let start = text.get(..s.start)?;
                    let n = start.matches('\n').count();
                    let line = text.lines().nth(n)?.trim();
                    let mut quoted: String = line.chars().take(60).collect();
                    if quoted.len() < line.len() {
                        quoted.push('…');
                    }
                    Some(format!(" line {} `{quoted}`:", n + 1))
                })
                .unwrap_or_default();
            anyhow::anyhow!("{path}:{at} {}", e.message().trim())
        })?;
    }
    let mut site = file.site();
    site.country_code = args
        .country_code
        .clone()
        .or(site.country_code)
        .map(|c| c.trim_start_matches('+').to_string());
    site.area_code = args.area_code.clone().or(site.area_code);
    site.internal_length = args.internal_length.or(site.internal_length);
    site.outside_prefix = args.outside_prefix.clone().or(site.outside_prefix);
    site.known_users.extend(args.known_users.iter().cloned());
    // `--redact`: the known users as they read in the redacted capture.
    for u in &mut site.known_users {
        *u = crate::redact::number(u);
    }
    site.current_pattern = args.current_pattern.clone().or(site.current_pattern);
    let mut m = MediaSettings::default();
    if let Some(p) = ports.softphone_port.or(file.softphone_port) {
        m.softphone_port = p;
    }
    // A bad range names where it came from: the flag, or the key in the site file.
    let range = |flag: &Option<String>, key: &Option<String>, name: &str| {
        let r = match (flag, key) {
            (Some(r), _) => parse_range(r).with_context(|| format!("--{}", name.replace('_', "-"))),
            (None, Some(r)) => parse_range(r)
                .with_context(|| format!("{}: {name}", args.site.as_deref().unwrap_or_default())),
            (None, None) => return Ok(None),
        };
        r.map(Some)
    };
    if let Some(r) = range(
        &ports.server_media_ports,
        &file.server_media_ports,
        "server_media_ports",
    )? {
        m.server_ports = r;
    }
    if let Some(r) = range(
        &ports.client_media_ports,
        &file.client_media_ports,
        "client_media_ports",
    )? {
        m.client_ports = r;
    }
    Ok((site, m))
}

/// Every From/To user of the calls, for site inference. Diversion numbers are left out
/// on purpose: they are what is being judged.
/// Completes the site profile from the numbers of the calls that can be users (see
/// [`crate::calls::user_numbers`]).
fn infer_site(site: &mut Site, calls: &[crate::calls::Call], legs: &crate::calls::legs::Legs) {
    use crate::calls::legs::LegKind;
    let numbers =
        crate::calls::user_numbers(calls, |c| legs.kind_of(&c.call_id) == LegKind::Second);
    crate::numbers::infer_site(site, numbers, crate::calls::USER_NUMBER_SOURCES);
}

/// What `analyze` and `flow` need to know besides the captures.
struct DiagnoseOptions<'a> {
    site: &'a SiteArgs,
    ports: &'a MediaPortArgs,
    xcc: &'a [String],
    pbx: &'a [String],
    select: &'a [String],
    ignore: &'a [String],
    severity: &'a [String],
    /// IP Office addresses (`--ipo`) and configuration file (`--ipo-config`).
    ipo: &'a [std::net::IpAddr],
    ipo_config: Option<&'a str>,
}

/// A whole diagnosis: the calls, their roles and legs, the media and the findings.
struct Diagnosis {
    reports: Vec<CaptureReport>,
    calls: Vec<crate::calls::Call>,
    roles: crate::calls::legs::Roles,
    legs: crate::calls::legs::Legs,
    site: Site,
    media: crate::media::MediaReport,
    findings: Vec<rules::Finding>,
    /// Several files read merged: where each (merged) frame number came from.
    index: Option<crate::capture::merge::FrameIndex>,
}

/// Checks the options, scans the captures (messages into `set` through `sink`, which may
/// also record what it needs) and diagnoses the calls. `None` beside the errors when no
/// capture could be read.
fn diagnose(
    captures: &[String],
    opts: &DiagnoseOptions<'_>,
    sink: &mut (dyn CallSink + Send),
) -> anyhow::Result<(Option<Diagnosis>, Vec<CaptureError>)> {
    let (mut site, settings) = site_settings(opts.site, opts.ports)?;
    let parse_eps = |v: &[String]| -> anyhow::Result<Vec<Endpoint>> {
        v.iter()
            .map(|s| Endpoint::parse(&crate::redact::endpoint(s)).map_err(anyhow::Error::msg))
            .collect()
    };
    let (xcc, pbx) = (parse_eps(opts.xcc)?, parse_eps(opts.pbx)?);
    let mut overrides = Vec::new();
    for s in opts.severity {
        let (id, level) = s
            .split_once('=')
            .with_context(|| format!("--severity {s:?} is not RULE=LEVEL"))?;
        let rule = rules::lookup(id).with_context(|| format!("--severity: unknown rule {id:?}"))?;
        let level = match level.to_ascii_lowercase().as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            "info" => Severity::Info,
            _ => anyhow::bail!("--severity {s:?}: level must be error, warning or info"),
        };
        overrides.push((rule.info().id, level));
    }
    for key in opts.select.iter().chain(opts.ignore) {
        rules::lookup(key)
            .with_context(|| format!("unknown rule {key:?} (see `sipdiag rules`)"))?;
    }
    let ipo_config = opts.ipo_config.map(ipo_route::load_config).transpose()?;
    let mut tracker = MediaTracker::new(settings);
    // Several files are captures of one incident: merged by timestamp into one stream.
    let (reports, errors, index) = if captures.len() > 1 {
        let (r, e, i) = merged::scan_merged(captures, sink, Some(&mut tracker));
        (r, e, Some(i))
    } else {
        let (r, e) = scan_all_with(captures, sink, &mut tracker);
        (r, e, None)
    };
    if reports.is_empty() {
        return Ok((None, errors));
    }
    let calls = std::mem::take(&mut sink.calls().calls);
    // Media and calls are finished independently: side by side.
    let (media, (roles, legs)) = crate::par::beside(
        move || tracker.finish(),
        || {
            let roles = infer_roles(&calls, &xcc, &pbx);
            let legs = link_legs(&calls, &roles);
            infer_site(&mut site, &calls, &legs);
            (roles, legs)
        },
    );
    let ipo = ipo_route::ipo_context(&calls, opts.ipo, ipo_config.as_ref());
    let cx = rules::Context {
        captures: &reports,
        calls: &calls,
        roles: &roles,
        legs: &legs,
        site: &site,
        media: &media,
        ipo: &ipo,
    };
    let wanted = |k: &[String], info: &RuleInfo| {
        k.iter()
            .any(|s| s.eq_ignore_ascii_case(info.id) || s.eq_ignore_ascii_case(info.slug))
    };
    let enabled = |info: &RuleInfo| {
        (opts.select.is_empty() || wanted(opts.select, info)) && !wanted(opts.ignore, info)
    };
    let mut findings = rules::run_rules(&cx, &enabled);
    for f in &mut findings {
        if let Some((_, level)) = overrides.iter().find(|(id, _)| *id == f.id) {
            f.severity = *level;
        }
    }
    if index.is_none() {
        attach_captures(&mut findings, &calls, &legs, captures);
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.frames.first().cmp(&b.frames.first()))
    });
    let d = Diagnosis {
        reports,
        calls,
        roles,
        legs,
        site,
        media,
        findings,
        index,
    };
    Ok((Some(d), errors))
}

/// A sink that files messages as calls (and may record more of them).
trait CallSink: Sink {
    fn calls(&mut self) -> &mut CallSet;
}

impl CallSink for CallSet {
    fn calls(&mut self) -> &mut CallSet {
        self
    }
}

fn analyze(args: &AnalyzeArgs, color: bool) -> anyhow::Result<u8> {
    if args.each {
        return each::each(args, color);
    }
    let (a, errors) = match analyze_captures(args, &args.captures, true)? {
        (Some(a), errors) => (a, errors),
        (None, errors) => return finish(errors),
    };
    let output = args.output.as_deref();
    match args.format {
        ReportFormat::Json => write_report(output, |w| match &a.index {
            Some(i) => crate::report::cited::write_json(&a.analysis, i, w),
            None => analysis::write_json(&a.analysis, w),
        }),
        ReportFormat::Html => write_report(output, |w| {
            let page = crate::report::html::html(&a.analysis, &a.html_ladders, args.verbose);
            w.write_all(page.as_bytes())
        }),
        _ => write_report(output, |w| {
            w.write_all(render_text(&a, args.format, color, args.verbose).as_bytes())
        }),
    }?;
    finish(errors)?;
    Ok(u8::from(fails(&a.analysis, args.fail_on)))
}

/// One `analyze` run over captures read together: the report, the ladders of `--flow`
/// (empty without, and for JSON) and those of the HTML page.
struct Analyzed {
    analysis: Analysis,
    ladders: String,
    html_ladders: crate::report::html::HtmlLadders,
    /// Several files read merged (see [`Diagnosis::index`]).
    index: Option<crate::capture::merge::FrameIndex>,
}

/// Diagnoses `captures` with the options of `args`. `None` beside the errors when no
/// capture could be read. `forget`: the process ends right after the report, so the calls
/// and media are not freed one by one (`--each` frees them: it runs many analyses).
fn analyze_captures(
    args: &AnalyzeArgs,
    captures: &[String],
    forget: bool,
) -> anyhow::Result<(Option<Analyzed>, Vec<CaptureError>)> {
    let opts = DiagnoseOptions {
        site: &args.site,
        ports: &args.ports,
        xcc: &args.xcc,
        pbx: &args.pbx,
        select: &args.select,
        ignore: &args.ignore,
        severity: &args.severity,
        ipo: &args.ipo,
        ipo_config: args.ipo_config.as_deref(),
    };
    let focus = flow::focus(&args.focus)?;
    if let Some(out) = &args.annotate {
        annotate::check(captures, out)?;
    }
    // The ladders need each message's reason phrase, which the calls do not keep.
    let mut recorder = flow::Recorder::default();
    let mut set = CallSet::default();
    let html = args.format == ReportFormat::Html;
    let sink: &mut (dyn CallSink + Send) = if args.flow || html {
        &mut recorder
    } else {
        &mut set
    };
    let (d, errors) = diagnose(captures, &opts, sink)?;
    let Some(mut d) = d else {
        return Ok((None, errors));
    };
    let keep = focus.select(&d.calls, &d.legs);
    flow::check_selection(&focus, &keep)?;
    if !focus.is_empty() {
        // Files read merged name no file per call: their findings cite the merged stream.
        let files = if d.index.is_some() { &[] } else { captures };
        d.findings = flow::focused_findings(d.findings, &d.calls, &keep, files);
    }
    let html_ladders = if html {
        html::ladders(&recorder, &d, &keep, captures, &args.ports)
    } else {
        Default::default()
    };
    let ladders =
        if args.flow && matches!(args.format, ReportFormat::Table | ReportFormat::Markdown) {
            flow::failed_call_ladders(
                &recorder,
                &d,
                &keep,
                captures,
                &args.ports,
                args.format == ReportFormat::Markdown,
            )
        } else {
            String::new()
        };
    // The calls the report is about (all of them without a focus).
    let shown: Vec<crate::calls::Call> = if focus.is_empty() {
        std::mem::take(&mut d.calls)
    } else {
        std::mem::take(&mut d.calls)
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect()
    };
    let summaries = shown
        .iter()
        .map(|c| CallSummary::new(c, &d.legs, &d.media))
        .collect();
    if let Some(out) = &args.annotate {
        annotate::annotate(&captures[0], out, &d.findings)?;
    }
    let counts = crate::report::verdict::counts(&shown, &d.legs, &d.media, &d.findings);
    let verdicts = crate::report::verdict::verdicts(&shown, &d.legs, &d.media, &d.findings);
    if forget {
        // Freeing every call and stream one by one costs more than analysing them did
        // (10^5 allocations on a large capture).
        std::mem::forget(shown);
        std::mem::forget(d.media);
    }
    let analysis = Analysis::new(
        d.site, d.roles, d.reports, summaries, counts, verdicts, d.findings,
    );
    let index = d.index;
    Ok((
        Some(Analyzed {
            analysis,
            ladders,
            html_ladders,
            index,
        }),
        errors,
    ))
}

/// The table or markdown report of one run, ladders after it.
fn render_text(a: &Analyzed, format: ReportFormat, color: bool, verbose: bool) -> String {
    // Merged captures: where the frames cited came from, by file.
    let width = crate::report::terminal_width();
    let legend = a.index.as_ref().map_or_else(String::new, |i| {
        let markdown = format == ReportFormat::Markdown;
        let text = crate::report::cited::legend(&a.analysis, i, markdown);
        if markdown {
            text
        } else {
            crate::report::wrap_lines(&text, width)
        }
    });
    if format == ReportFormat::Markdown {
        return analysis::markdown(&a.analysis, verbose) + &legend + &a.ladders;
    }
    let o = analysis::TextOptions {
        color,
        verbose,
        width,
    };
    analysis::table(&a.analysis, o) + &legend + &a.ladders
}

/// Whether a finding at or above `--fail-on` exists (exit code 1).
fn fails(analysis: &Analysis, fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::None => None,
    };
    threshold.is_some_and(|t| analysis.findings.iter().any(|f| f.finding.severity >= t))
}

/// Writes a report to `--output` when given (created or truncated), else to standard
/// output.
fn write_report(
    output: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("{}: cannot write the report", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("{}: cannot write the report", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            write(&mut out)
                .and_then(|()| out.flush())
                .context("writing the report")
        }
    }
}

/// `--color`: `auto` colours only on a terminal and when NO_COLOR is unset or empty
/// (https://no-color.org); an explicit `always` or `never` wins over NO_COLOR, as that
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

fn media(args: &MediaArgs) -> anyhow::Result<u8> {
    let (_, settings) = site_settings(&SiteArgs::default(), &args.ports)?;
    let focus = flow::focus(&args.focus)?;
    let (col, reports, errors) = collect(&args.captures, settings);
    if reports.is_empty() {
        return finish(errors);
    }
    let mut report = col.media.finish();
    if !focus.is_empty() {
        // The RTP of the selected calls (and, with --ip, any stream of those addresses).
        let roles = infer_roles(&col.set.calls, &[], &[]);
        let legs = link_legs(&col.set.calls, &roles);
        let keep = focus.select(&col.set.calls, &legs);
        flow::check_selection(&focus, &keep)?;
        let ids: foldhash::HashSet<&str> = col
            .set
            .calls
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.call_id.as_str())
            .collect();
        let by_ip = |a: &std::net::SocketAddr| focus.ips.contains(&a.ip());
        report.rtp.retain(|s| {
            s.call_id.as_deref().is_some_and(|id| ids.contains(id))
                || by_ip(&s.src)
                || by_ip(&s.dst)
        });
        report
            .announced
            .retain(|a| ids.contains(a.call_id.as_str()));
        if !focus.ips.is_empty() {
            report.stun.retain(|t| by_ip(&t.src) || by_ip(&t.dst));
        }
        // Positions changed: an index built on the whole report no longer applies.
        report.index = std::sync::OnceLock::new();
    }
    let text = match args.format {
        Format::Json => crate::report::media::media_json(&reports, &report),
        Format::Table => {
            let width = crate::report::terminal_width();
            crate::report::wrap_lines(
                &(crate::report::media::media_table(&report, width)
                    + &listing::captures_footer(&reports)),
                width,
            )
        }
    };
    write_out(&text).context("writing the report")?;
    // As in `analyze`: the process ends now, freeing call by call would cost more.
    std::mem::forget(col.set);
    std::mem::forget(report);
    finish(errors)
}

fn rules_list(format: Format) -> anyhow::Result<u8> {
    let infos: Vec<&RuleInfo> = rules::registry().into_iter().map(|r| r.info()).collect();
    let text = match format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": listing::SCHEMA_VERSION,
                "rules": infos,
            }))? + "\n"
        }
        Format::Table => {
            let mut t = crate::report::new_table(&["Id", "Slug", "Severity", "Summary"]);
            crate::report::fit(&mut t, crate::report::terminal_width());
            for i in &infos {
                t.add_row(vec![
                    i.id.to_string(),
                    i.slug.to_string(),
                    i.severity.to_string(),
                    i.summary.to_string(),
                ]);
            }
            format!("{t}\n")
        }
    };
    write_out(&text)?;
    Ok(0)
}

fn explain(key: &str) -> anyhow::Result<u8> {
    let rule = rules::lookup(key)
        .with_context(|| format!("unknown rule {key:?} (see `sipdiag rules`)"))?;
    write_out(&rules::explain(rule.info()))?;
    Ok(0)
}

fn pattern_test(args: &PatternTestArgs) -> anyhow::Result<u8> {
    use crate::numbers::pattern::{self, Rewrite};
    let rewrites: Vec<Rewrite> = args
        .rewrite
        .iter()
        .map(|r| Rewrite::parse(r).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let (mut site, _) = site_settings(&args.site, &MediaPortArgs::default())?;
    let mut values: Vec<String> = Vec::new();
    for v in &args.value {
        // A whole header value or a bare number.
        let n = if v.contains(':') || v.contains('<') {
            crate::sip::headers::parse_name_addr(v)
                .user
                .unwrap_or_else(|| v.clone())
        } else {
            v.clone()
        };
        values.push(n);
    }
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    if !args.captures.is_empty() {
        let (col, r, e) = collect(&args.captures, MediaSettings::default());
        reports = r;
        errors = e;
        for c in &col.set.calls {
            for t in &c.invites {
                for d in &t.diversion {
                    values.extend(d.addr.user.clone());
                }
                for h in &t.history_info {
                    values.extend(h.addr.user.clone());
                }
            }
        }
        let roles = infer_roles(&col.set.calls, &[], &[]);
        infer_site(
            &mut site,
            &col.set.calls,
            &link_legs(&col.set.calls, &roles),
        );
        values.sort();
        values.dedup();
    }
    anyhow::ensure!(
        !values.is_empty() || !errors.is_empty(),
        "nothing to test: give --value or captures with Diversion/History-Info numbers"
    );
    let proof = pattern::prove(&rewrites, &values, &site);
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": listing::SCHEMA_VERSION,
                "rewrites": rewrites,
                "results": proof,
                "xcc_diversion_pattern": pattern::xcc_diversion_pattern(site.current_pattern.as_deref(), &rewrites),
                "syntax_verified": false,
            }))? + "\n"
        }
        Format::Table => {
            let mut t = crate::report::new_table(&["Before", "After", "Format", "XCC finds it"]);
            for p in &proof {
                t.add_row(vec![
                    p.observed.clone(),
                    p.rewritten.clone(),
                    p.format_after_label.clone(),
                    if p.understood_by_xcc {
                        "yes".into()
                    } else {
                        "no".to_string()
                    },
                ]);
            }
            let notes: String = proof
                .iter()
                .filter_map(|p| Some(format!("{}: {}\n", p.observed, p.unresolved.as_ref()?)))
                .collect();
            format!(
                "{t}\n{notes}Candidate XccDiversionPattern: {}\n({})\n{}",
                pattern::xcc_diversion_pattern(site.current_pattern.as_deref(), &rewrites),
                pattern::SYNTAX_CAVEAT,
                listing::captures_footer(&reports)
            )
        }
    };
    write_out(&text)?;
    finish(errors)?;
    Ok(u8::from(proof.iter().any(|p| !p.understood_by_xcc)))
}

/// Scans every capture into `sink`: reading, decoding and framing on this thread, SIP
/// parsing and the sink on a second one (`app::pipeline`). Captures that cannot be read at
/// all are returned as errors beside the reports of the others, so callers report what
/// was found and then fail (exit 2). Only SIP is looked at.
pub fn scan_all(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    pipeline::scan_all(paths, sink, None)
}

/// [`scan_all`], with every other packet handed to `packets`, which runs beside the sink
/// on the second thread; SIP is then parsed on the reading thread (see `app::pipeline`).
pub fn scan_all_with(
    paths: &[String],
    sink: &mut (dyn Sink + Send),
    packets: &mut (dyn PacketSink + Send),
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    pipeline::scan_all(paths, sink, Some(packets))
}

/// [`scan_all`] / [`scan_all_with`] on the calling thread only.
pub fn scan_all_serial(
    paths: &[String],
    sink: &mut dyn Sink,
    mut packets: Option<&mut dyn PacketSink>,
) -> (Vec<CaptureReport>, Vec<CaptureError>) {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        sink.capture_start(i);
        if let Some(ps) = relend(&mut packets) {
            ps.capture_start(i);
        }
        let mut direct = Direct {
            sink: &mut *sink,
            packets: relend(&mut packets),
        };
        match scan_into(p, &mut direct) {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(e),
        }
    }
    (reports, errors)
}

/// A sink for the SIP messages only.
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

/// The Call-IDs a focus selects (with the legs linked to them), from a first scan of the
/// captures; `None` without a focus. Standard input cannot be read twice.
fn focused_call_ids(
    captures: &[String],
    focus: &FocusArgs,
) -> anyhow::Result<Option<foldhash::HashSet<String>>> {
    let focus = flow::focus(focus)?;
    if focus.is_empty() {
        return Ok(None);
    }
    anyhow::ensure!(
        !captures.iter().any(|c| c == "-"),
        "the focus flags read the capture twice (calls first, then messages): give a file, not standard input"
    );
    let mut set = CallSet::default();
    let (_, errors) = scan_all(captures, &mut set);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    let roles = infer_roles(&set.calls, &[], &[]);
    let legs = link_legs(&set.calls, &roles);
    let keep = focus.select(&set.calls, &legs);
    flow::check_selection(&focus, &keep)?;
    Ok(Some(
        set.calls
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c.call_id)
            .collect(),
    ))
}

fn messages(args: &ReadArgs) -> anyhow::Result<u8> {
    let only = focused_call_ids(&args.captures, &args.focus)?;
    let wanted = |m: &SipMessage| {
        only.as_ref()
            .is_none_or(|ids| m.call_id().is_some_and(|id| ids.contains(id)))
    };
    if args.format == Format::Json {
        // Streamed: rows are written as they are found.
        // Written from the sink thread: `Stdout` (not its lock, which cannot move).
        let mut json = listing::MessagesJson::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        ));
        let (reports, errors) = scan_all(
            &args.captures,
            &mut Collect(|m: SipMessage| {
                if wanted(&m) {
                    json.message(&m)
                }
            }),
        );
        if reports.is_empty() && json.error.is_none() {
            return finish(errors);
        }
        json.finish(&reports).context("writing the report")?;
        return finish(errors);
    }
    let time = match args.time {
        crate::cli::TimeArg::Absolute => listing::TimeFormat::Absolute,
        crate::cli::TimeArg::Relative => listing::TimeFormat::Relative,
        crate::cli::TimeArg::Delta => listing::TimeFormat::Delta,
    };
    let mut table = listing::MessagesTable::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        time,
    );
    let (reports, errors) = scan_all(
        &args.captures,
        &mut Collect(|m: SipMessage| {
            if wanted(&m) {
                table.message(m)
            }
        }),
    );
    if reports.is_empty() && table.error.is_none() {
        return finish(errors);
    }
    table.finish(&reports).context("writing the report")?;
    finish(errors)
}
