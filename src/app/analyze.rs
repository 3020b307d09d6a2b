//! `analyze` and what `flow` shares with it: the captures scanned into calls and media
//! ([`collect`]), diagnosed by the rules ([`diagnose`]) and the report rendered and
//! written ([`render_text`], [`write_report`]). Input: the command's options and
//! captures; output: the report and the exit code.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::legs::{Endpoint, infer_roles, link_legs};
use crate::capture::CaptureError;
use crate::capture::merge::FrameIndex;
use crate::cli::{AnalyzeArgs, FailOn, JudgeArgs, MediaPortArgs, ReportFormat, SiteArgs};
use crate::media::{MediaSettings, MediaTracker, UdpPayload};
use crate::net::{Datagram, IcmpError, StreamEvent};
use crate::numbers::Site;
use crate::report::analysis::{self, Analysis, CallSummary};
use crate::report::analysis_spool::{Layout, Spooled};
use crate::rules::{self, Severity};
use crate::sip::{CaptureReport, SipMessage};

pub(super) use super::rule_choice::RuleChoice;

use super::annotate::Comments;
use super::watch::{Cited, LadderPass};
use super::{
    PacketSink, Sink, annotate, each, finish, flow, html, infer_site, ipo_route, merged,
    site_settings,
};

/// Calls, media and anomalies of a set of captures: what rules need.
pub(super) struct Collected {
    pub(super) set: CallSet,
    pub(super) media: MediaTracker,
}

/// The calls, built on the sink thread.
impl Sink for CallSet {
    fn capture_start(&mut self, index: usize) {
        self.capture = index;
    }
    fn message(&mut self, msg: SipMessage) {
        self.add(msg);
    }
    fn garbage(&mut self) -> Option<super::Garbage> {
        self.take_garbage()
    }
    fn let_go(&mut self, gone: &mut dyn FnMut(&str)) {
        self.let_go_since(gone);
    }
}

/// The media: SDP is read from the messages (and kept in them for the calls).
impl PacketSink for MediaTracker {
    fn message(&mut self, m: &SipMessage) {
        self.clock(m.time.secs, m.frame);
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
    fn call_gone(&mut self, call_id: &str) {
        self.forget_call(call_id);
    }
}

/// Scans the captures into calls and media, recording on each call which file carried it:
/// several files merged by time as `analyze` reads them, with the index of that read
/// (`None`: one file).
pub(super) fn collect(
    paths: &[String],
    settings: MediaSettings,
) -> (
    Collected,
    Vec<CaptureReport>,
    Vec<CaptureError>,
    Option<FrameIndex>,
) {
    let mut col = Collected {
        set: CallSet::default(),
        media: MediaTracker::new(settings),
    };
    let (mut reports, errors, index) =
        merged::scan_captures(paths, &mut col.set, Some(&mut col.media));
    let own = |n: u64| merged::own_number(index.as_ref(), n);
    col.set.finish_numbered(&mut reports, paths, &own);
    (col, reports, errors, index)
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
            .and_then(|c| paths.get(c.only_capture()?))
            .map(|p| crate::redact::shown_path(p));
        f.capture = from_call.or_else(|| match paths {
            [only] => Some(crate::redact::shown_path(only)),
            _ => None,
        });
    }
}

/// What `analyze` and `flow` need to know besides the captures.
pub(super) struct DiagnoseOptions<'a> {
    pub(super) site: &'a SiteArgs,
    pub(super) ports: &'a MediaPortArgs,
    /// Rules, roles and the IP Office (`flow` gives the roles only).
    pub(super) judge: &'a JudgeArgs,
}

/// A whole diagnosis: the calls, their roles and legs, the media and the findings.
pub(super) struct Diagnosis {
    pub(super) reports: Vec<CaptureReport>,
    pub(super) calls: Vec<crate::calls::Call>,
    pub(super) roles: crate::calls::legs::Roles,
    pub(super) legs: crate::calls::legs::Legs,
    pub(super) site: Site,
    pub(super) media: crate::media::MediaReport,
    pub(super) findings: Vec<rules::Finding>,
    /// Several files read merged: where each (merged) frame number came from.
    pub(super) index: Option<crate::capture::merge::FrameIndex>,
}

/// Checks the options, scans the captures (messages into `set` through `sink`, which may
/// also record what it needs) and diagnoses the calls. `None` beside the errors when no
/// capture could be read.
pub(super) fn diagnose(
    captures: &[String],
    opts: &DiagnoseOptions<'_>,
    sink: &mut (dyn CallSink + Send),
) -> anyhow::Result<(Option<Diagnosis>, Vec<CaptureError>)> {
    let (mut site, settings) = site_settings(opts.site, opts.ports)?;
    let judge = opts.judge;
    let (xcc, pbx) = (endpoints(&judge.xcc)?, endpoints(&judge.pbx)?);
    let choice = RuleChoice::new(&judge.select, &judge.ignore, &judge.severity)?;
    let ipo_config = (judge.ipo_config.as_deref())
        .map(ipo_route::load_config)
        .transpose()?;
    let mut tracker = MediaTracker::new(settings);
    // Several files are captures of one incident: merged by timestamp into one stream.
    let (mut reports, errors, index) = merged::scan_captures(captures, sink, Some(&mut tracker));
    if reports.is_empty() {
        return Ok((None, errors));
    }
    // Files read merged: the drops' message quotes its own file's frame numbers, as the
    // other anomalies of a merged read do (`app::merged`).
    let own = |n: u64| merged::own_number(index.as_ref(), n);
    (sink.calls()).finish_numbered(&mut reports, captures, &own);
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
    let ipo = ipo_route::ipo_context(&calls, &judge.ipo, ipo_config.as_ref());
    let cx = rules::Context {
        captures: &reports,
        calls: &calls,
        roles: &roles,
        legs: &legs,
        site: &site,
        media: &media,
        ipo: &ipo,
        seen: &Default::default(),
    };
    let mut findings = rules::run_rules(&cx, &|info| choice.enabled(info));
    choice.apply_severity(&mut findings);
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
pub(super) trait CallSink: Sink {
    fn calls(&mut self) -> &mut CallSet;
}

impl CallSink for CallSet {
    fn calls(&mut self) -> &mut CallSet {
        self
    }
}

pub(super) fn analyze(args: &AnalyzeArgs, color: bool) -> anyhow::Result<u8> {
    if args.each {
        return each::each(args, color);
    }
    let (a, errors) = match analyze_captures(args, &args.captures, true)? {
        (Some(a), errors) => (a, errors),
        (None, errors) => return finish(errors),
    };
    let output = args.output.as_deref();
    let failing = fails(&a.analysis, args.judge.fail_on);
    match args.format {
        ReportFormat::Json => write_report(output, |w| match (&a.index, a.rows) {
            (Some(i), Some(Spooled::Json(rows))) => rows.write_cited(&a.analysis, i, w),
            (Some(i), _) => crate::report::cited::write_json(&a.analysis, i, w),
            (None, Some(Spooled::Json(rows))) => rows.write(&a.analysis, w),
            (None, _) => analysis::write_json(&a.analysis, w),
        }),
        ReportFormat::Html => write_report(output, |w| match a.rows {
            // Streamed: the verdicts read back from their spool as the page is written.
            Some(Spooled::Verdicts(mut spooled)) => {
                let failed = spooled.any_failed()?;
                let streams = spooled.take_stream_rows();
                let mut w = std::io::BufWriter::new(w);
                let verdicts: &mut analysis::VerdictSource<'_> =
                    &mut |lines, out| spooled.offer(lines, out);
                let (ladders, verbose) = (&a.html_ladders, args.verbose);
                crate::report::html::write_html(
                    &a.analysis,
                    verdicts,
                    failed,
                    streams,
                    ladders,
                    verbose,
                    &mut w,
                )?;
                w.flush()
            }
            _ => {
                let page = crate::report::html::html(&a.analysis, &a.html_ladders, args.verbose);
                w.write_all(page.as_bytes())
            }
        }),
        _ => write_report(output, |w| {
            write_text(a, args.format, color, args.verbose, w)
        }),
    }?;
    finish(errors)?;
    Ok(u8::from(failing))
}

/// One `analyze` run over captures read together: the report, the ladders of `--flow`
/// (empty without, and for JSON) and those of the HTML page.
pub(super) struct Analyzed {
    pub(super) analysis: Analysis,
    pub(super) ladders: String,
    pub(super) html_ladders: crate::report::html::HtmlLadders,
    /// Several files read merged (see [`Diagnosis::index`]).
    pub(super) index: Option<crate::capture::merge::FrameIndex>,
    /// The JSON document's verdicts and call rows, or the text report's verdicts,
    /// spooled (one file read as a stream).
    pub(super) rows: Option<Spooled>,
}

/// Diagnoses `captures` with the options of `args`. `None` beside the errors when no
/// capture could be read. `forget`: the process ends right after the report, so the calls
/// and media are not freed one by one (`--each` frees them: it runs many analyses).
pub(super) fn analyze_captures(
    args: &AnalyzeArgs,
    captures: &[String],
    forget: bool,
) -> anyhow::Result<(Option<Analyzed>, Vec<CaptureError>)> {
    let opts = DiagnoseOptions {
        site: &args.site,
        ports: &args.ports,
        judge: &args.judge,
    };
    let focus = flow::focus(&args.focus)?;
    if let Some(out) = &args.annotate {
        annotate::check(captures, out)?;
    }
    // One file (or standard input, copied for it) read as a stream (again, when the whole
    // capture contradicts what its calls were judged with), memory following the calls in
    // progress, unless something compares calls across the capture at each moment
    // (the IP Office configuration's replay counts the calls up at once; see
    // `watch::analyze_files`). The ladders of `--flow` come from further readings.
    let html = args.format == ReportFormat::Html;
    // `--each` (`forget` false) embeds each report whole in its document.
    let layout = match args.format {
        _ if !forget => Layout::Held,
        ReportFormat::Json => Layout::Json,
        _ => Layout::Text {
            verbose: args.verbose,
            streams: html,
        },
    };
    // `--flow` of a text report: the reading notes what the findings name and cite, and
    // the failed calls are found and drawn from further readings (`watch::ladders`).
    let text = matches!(args.format, ReportFormat::Table | ReportFormat::Markdown);
    // The HTML page: the same, its ladders with the messages' texts.
    let cited = ((args.flow && text) || html).then(|| Arc::new(Mutex::new(Cited::default())));
    // `--annotate`: the reading gathers the findings' comments.
    let comments = (args.annotate.is_some()).then(|| Arc::new(Mutex::new(Comments::default())));
    let file = super::watch::FileOptions {
        ladders: cited.clone().map(LadderPass::Cite),
        comments: comments.clone(),
        ..super::watch::FileOptions::of(args)
    };
    // One file, or several merged by time (a rotated set, two capture points; not with
    // `--annotate`, which writes one file).
    // Standard input or a named pipe, read only once, is kept for a second reading.
    // A configuration whose replay needs the IP Office's addresses from the capture's
    // calls holds them (`ipo_route::replaying`).
    let ipo_held = match args.judge.ipo_config.as_deref() {
        Some(path) => {
            let cfg = ipo_route::load_config(path)?;
            ipo_route::replaying(&args.judge.ipo, Some(&cfg)).is_none()
        }
        None => false,
    };
    let held = args.in_memory || ipo_held;
    let streamed_input = (!held)
        .then(|| super::watch::streamed_paths(captures))
        .flatten();
    if let Some(paths) = streamed_input
        && let Some((streamed, errors)) = super::watch::analyze_files(&file, &paths, layout)?
    {
        let Some(((analysis, rows), index)) = streamed else {
            return Ok((None, errors));
        };
        // Several files: their frames are cited by file with the index of the read.
        let index = index.several().is_some().then_some(index);
        let (ladders, html_ladders) = match &cited {
            Some(cited) if html => {
                let mut cited = cited.lock().unwrap_or_else(PoisonError::into_inner);
                let roles = &analysis.roles;
                match html::streamed_ladders(args, &paths, index.as_ref(), roles, &mut cited)? {
                    Some(drawn) => (Some(String::new()), drawn),
                    None => (None, Default::default()),
                }
            }
            Some(cited) => {
                let mut cited = cited.lock().unwrap_or_else(PoisonError::into_inner);
                let roles = &analysis.roles;
                let text = flow::streamed_failed_ladders(args, &paths, roles, &mut cited)?;
                (text, Default::default())
            }
            None => (Some(String::new()), Default::default()),
        };
        if let Some(ladders) = ladders {
            if let (Some(out), Some(comments), [path]) = (&args.annotate, comments, &paths[..]) {
                let comments =
                    std::mem::take(&mut *comments.lock().unwrap_or_else(PoisonError::into_inner));
                annotate::annotate_gathered(path, out, comments)?;
            }
            let analyzed = Analyzed {
                analysis,
                ladders,
                html_ladders,
                index,
                rows,
            };
            return Ok((Some(analyzed), errors));
        }
    }
    // The ladders need each message's reason phrase, which the calls do not keep.
    let mut recorder = flow::Recorder::default();
    let mut set = CallSet::default();
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
    if let Some(out) = &args.annotate {
        annotate::annotate(&captures[0], out, &d.findings)?;
    }
    // The call rows and the verdicts read the same calls and media: side by side.
    let (summaries, (counts, verdicts)) = crate::par::beside(
        || {
            (shown.iter())
                .map(|c| CallSummary::new(c, &d.legs, &d.media))
                .collect::<Vec<_>>()
        },
        || {
            (
                crate::report::verdict::counts(&shown, &d.legs, &d.media, &d.findings),
                crate::report::verdict::verdicts(&shown, &d.legs, &d.media, &d.findings),
            )
        },
    );
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
            rows: None,
        }),
        errors,
    ))
}

/// The table or markdown report of one run written to `w`, ladders after it; the verdicts
/// read back from their spool as they are written, when they were spooled.
fn write_text(
    mut a: Analyzed,
    format: ReportFormat,
    color: bool,
    verbose: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(Spooled::Verdicts(mut spooled)) = a.rows.take() else {
        return w.write_all(render_text(&a, format, color, verbose).as_bytes());
    };
    // Streamed: the legend of files read merged, then the ladders of `--flow`.
    let verdicts: &mut analysis::VerdictSource<'_> = &mut |lines, out| spooled.offer(lines, out);
    let mut w = std::io::BufWriter::new(w);
    let width = crate::report::terminal_width();
    if format == ReportFormat::Markdown {
        analysis::write_markdown(&a.analysis, verbose, verdicts, &mut w)?;
    } else {
        let o = analysis::TextOptions {
            color,
            verbose,
            width,
        };
        analysis::write_table(&a.analysis, o, verdicts, &mut w)?;
    }
    w.write_all(legend(&a, format, verbose, width).as_bytes())?;
    w.write_all(a.ladders.as_bytes())?;
    w.flush()
}

/// Where the frames cited came from, by file, for captures read merged (else nothing).
fn legend(a: &Analyzed, format: ReportFormat, verbose: bool, width: usize) -> String {
    a.index.as_ref().map_or_else(String::new, |i| {
        let markdown = format == ReportFormat::Markdown;
        let text = crate::report::cited::legend(&a.analysis, i, markdown, verbose);
        if markdown {
            text
        } else {
            crate::report::wrap_lines(&text, width)
        }
    })
}

/// The table or markdown report of one run, ladders after it.
pub(super) fn render_text(
    a: &Analyzed,
    format: ReportFormat,
    color: bool,
    verbose: bool,
) -> String {
    // Merged captures: where the frames cited came from, by file.
    let width = crate::report::terminal_width();
    let legend = legend(a, format, verbose, width);
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

/// `--xcc` / `--pbx` values (as they read in the capture under `--redact`).
pub(super) fn endpoints(v: &[String]) -> anyhow::Result<Vec<Endpoint>> {
    v.iter()
        .map(|s| Endpoint::parse(&crate::redact::endpoint(s)).map_err(anyhow::Error::msg))
        .collect()
}

/// The least severity that fails the run (exit code 1) by `--fail-on`; `None`: none does.
pub(super) fn fail_threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::None => None,
    }
}

/// Whether a finding at or above `--fail-on` exists (exit code 1).
pub(super) fn fails(analysis: &Analysis, fail_on: FailOn) -> bool {
    // By the summary's counts: a streamed report holds only the findings it shows.
    let s = &analysis.summary;
    fail_threshold(fail_on).is_some_and(|t| {
        [
            (Severity::Error, s.error),
            (Severity::Warning, s.warning),
            (Severity::Info, s.info),
        ]
        .iter()
        .any(|(level, n)| *level >= t && *n > 0)
    })
}

/// Writes a report to `--output` when given (created or truncated), else to standard
/// output.
pub(super) fn write_report(
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
