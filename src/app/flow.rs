//! `sipdiag flow`: the diagnosis of `analyze`, drawn as a ladder of the selected calls.
//!
//! The scan files messages as calls (for roles, legs and rules) and records, per message,
//! what an arrow shows (ends, method or status with reason, frame, time): the call model
//! keeps no reason phrases, and the ladder must quote them as sent.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::focus::{CallIds, Focus};
use crate::calls::legs::{LegKind, Roles};
use crate::capture::Timestamp;
use crate::capture::time::TimeSpec;
use crate::cli::{FlowArgs, FlowFormat, FocusArgs};
use crate::report::flow::{Arrow, Host, Ladder, LadderCall};
use crate::sip::SipMessage;

use super::{CallSink, DiagnoseOptions, Diagnosis, Sink, diagnose, finish, write_out};

mod failed;
pub(super) use failed::{
    Drawn, failed_call_ladders, streamed_failed_drawings, streamed_failed_ladders,
};

/// What an arrow needs of one message.
struct Recorded {
    /// Index into [`Recorder::call_ids`].
    call: usize,
    capture: usize,
    frame: u64,
    time: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    label: String,
    is_request: bool,
}

/// Files messages as calls and records each one's arrow.
#[derive(Default)]
pub(super) struct Recorder {
    set: CallSet,
    capture: usize,
    call_ids: Vec<String>,
    index: foldhash::HashMap<String, usize>,
    messages: Vec<Recorded>,
    /// Only the messages of these calls, when given (the others are not looked at).
    only: Option<CallIds>,
}

impl Recorder {
    /// A recorder of the messages of the calls `ids` only.
    fn only(ids: CallIds) -> Self {
        Recorder {
            only: Some(ids),
            ..Default::default()
        }
    }
}

impl Sink for Recorder {
    fn capture_start(&mut self, index: usize) {
        self.capture = index;
        self.set.capture_start(index);
    }

    fn message(&mut self, m: SipMessage) {
        if let Some(only) = &self.only
            && m.call_id().is_none_or(|id| !only.contains(id))
        {
            return;
        }
        if let Some(id) = m.call_id() {
            let call = match self.index.get(id) {
                Some(&i) => i,
                None => {
                    self.call_ids.push(id.to_string());
                    self.index.insert(id.to_string(), self.call_ids.len() - 1);
                    self.call_ids.len() - 1
                }
            };
            self.messages.push(Recorded {
                call,
                capture: self.capture,
                frame: m.frame,
                time: m.time,
                src: m.src,
                dst: m.dst,
                label: label(&m),
                is_request: m.method().is_some(),
            });
        }
        self.set.add(m);
    }
    fn garbage(&mut self) -> Option<super::Garbage> {
        self.set.take_garbage()
    }
    fn let_go(&mut self, gone: &mut dyn FnMut(&str)) {
        self.set.let_go_since(gone);
    }
}

impl CallSink for Recorder {
    fn calls(&mut self) -> &mut CallSet {
        &mut self.set
    }
}

/// `INVITE 799` (the Request-URI's user for INVITEs), `BYE`, `503 Service Unavailable`.
fn label(m: &SipMessage) -> String {
    if let Some(method) = m.method() {
        let user = (method == "INVITE")
            .then(|| m.request_uri())
            .flatten()
            .and_then(|u| crate::sip::headers::uri_parts(u).0);
        return match user {
            Some(u) => format!("{method} {u}"),
            None => method.to_string(),
        };
    }
    match (m.status(), m.reason_phrase()) {
        (Some(s), Some(r)) if !r.is_empty() => format!("{s} {r}"),
        (Some(s), _) => s.to_string(),
        _ => "?".to_string(),
    }
}

/// Fails when a focus is given and no call meets it: a mistyped Call-ID or number should
/// not read as "nothing wrong".
pub(super) fn check_selection(focus: &Focus, keep: &[bool]) -> anyhow::Result<()> {
    anyhow::ensure!(
        focus.is_empty() || keep.iter().any(|k| *k),
        "no call in the capture matches the selection ({})",
        focus.describe()
    );
    Ok(())
}

/// The focus flags, parsed.
pub(super) fn focus(args: &FocusArgs) -> anyhow::Result<Focus> {
    let time = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<TimeSpec>> {
        v.as_deref()
            .map(|s| TimeSpec::parse(s).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
            .transpose()
    };
    Ok(Focus {
        // `--redact`: the values as they read in the redacted capture.
        call_ids: args
            .call_id
            .iter()
            .map(|c| crate::redact::call_id(c))
            .collect(),
        numbers: args
            .number
            .iter()
            .map(|n| crate::redact::number(n))
            .collect(),
        ips: args.ip.iter().map(|a| crate::redact::ip(*a)).collect(),
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
    })
}

fn role_of(roles: &Roles, a: &SocketAddr, softphone_port: u16) -> Option<&'static str> {
    if roles.is_xcc(*a) || roles.xcc.contains(&a.ip()) {
        Some("XCC")
    } else if roles.is_pbx(*a) || roles.pbx.contains(&a.ip()) {
        Some("PBX")
    } else if a.port() == softphone_port {
        Some("XPhone server")
    } else {
        None
    }
}

pub(super) fn flow(args: &FlowArgs) -> anyhow::Result<u8> {
    let focus = focus(&args.focus)?;
    let judge = crate::cli::JudgeArgs {
        xcc: args.xcc.clone(),
        pbx: args.pbx.clone(),
        ..Default::default()
    };
    let opts = DiagnoseOptions {
        site: &args.site,
        ports: &args.ports,
        judge: &judge,
    };
    let softphone_port = args.ports.softphone_port.unwrap_or(2230);
    // One file, or several merged by time (a rotated set, two capture points).
    let streamed_input = (!args.in_memory)
        .then(|| super::watch::streamed_paths(&args.captures))
        .flatten();
    if let Some(paths) = streamed_input
        && let Some((ladder, errors)) = streamed(args, &opts, &paths, softphone_port)?
    {
        if let Some(ladder) = ladder {
            draw(args, &ladder)?;
        }
        return finish(errors);
    }
    let mut rec = Recorder::default();
    let (d, errors) = diagnose(&args.captures, &opts, &mut rec)?;
    let Some(d) = d else {
        return finish(errors);
    };
    let keep = focus.select(&d.calls, &d.legs);
    check_selection(&focus, &keep)?;
    let ladder = ladder(
        &rec,
        &Drawing::of(&d, &keep),
        &args.captures,
        softphone_port,
    );
    draw(args, &ladder)?;
    finish(errors)
}

/// The ladder of one file that can be read twice (or of several merged by time), memory
/// following the calls in progress and the calls drawn: the diagnosis of `analyze`, read
/// as a stream with the focus (`watch::analyze_files`), then the files read again for the
/// messages of the calls its report shows. `None` when the calls are to be held instead
/// (a clock that jumps, no temporary directory); no ladder when nothing could be read.
fn streamed(
    args: &FlowArgs,
    opts: &DiagnoseOptions<'_>,
    paths: &[String],
    softphone_port: u16,
) -> anyhow::Result<Option<(Option<Ladder>, Vec<crate::capture::CaptureError>)>> {
    let file = super::watch::FileOptions {
        site: opts.site,
        ports: opts.ports,
        judge: opts.judge,
        focus: &args.focus,
        ladders: None,
        comments: None,
    };
    let layout = crate::report::analysis_spool::Layout::Held;
    let Some((streamed, errors)) = super::watch::analyze_files(&file, paths, layout)? else {
        return Ok(None);
    };
    let Some(((analysis, _), _)) = streamed else {
        return Ok(Some((None, errors)));
    };
    let legs: foldhash::HashMap<&str, LegKind> = (analysis.calls.iter())
        .map(|c| (c.call_id.as_str(), c.leg))
        .collect();
    let mut rec = Recorder::only(legs.keys().collect());
    // The same files again: what they could not read, the first reading reported.
    let merged = paths.len() > 1;
    super::scan_again(paths, &mut rec);
    let findings = analysis.findings.iter().map(|f| &f.finding);
    let drawing = Drawing::new(legs, findings, &analysis.roles, merged);
    let ladder = ladder(&rec, &drawing, &args.captures, softphone_port);
    Ok(Some((Some(ladder), errors)))
}

/// Writes `ladder` in the format `args` asks for.
fn draw(args: &FlowArgs, ladder: &Ladder) -> anyhow::Result<()> {
    let width = crate::report::terminal_width();
    let text = match args.format {
        FlowFormat::Text => ladder.text(width),
        FlowFormat::Markdown => ladder.markdown(width),
        FlowFormat::Mermaid => ladder.mermaid(),
    };
    write_out(&text).context("writing the ladder")
}

/// `group` (indexes into the calls) as flags over `calls` calls, as [`ladder`] takes them.
pub(super) fn flags(group: &[usize], calls: usize) -> Vec<bool> {
    let mut keep = vec![false; calls];
    for &i in group {
        keep[i] = true;
    }
    keep
}

/// The failed calls among those kept, each as a group of linked legs (indexes into
/// `d.calls`), in the order of their first call: what `analyze --flow` and the HTML
/// report draw.
pub(super) fn failed_groups(d: &Diagnosis, keep: &[bool]) -> Vec<Vec<usize>> {
    let cited: foldhash::HashSet<&str> = d
        .findings
        .iter()
        .filter_map(|f| f.call_id.as_deref())
        .collect();
    failed_groups_of(&d.calls, &d.legs, keep, |id| cited.contains(id))
}

/// [`failed_groups`] of `calls` (in call order) linked as `legs`, the flagged ones in
/// `keep`, a finding naming the calls `cited` says: a call fails with a final INVITE
/// status of 300 or more, no final response, or a finding about it.
pub(super) fn failed_groups_of(
    calls: &[crate::calls::Call],
    legs: &crate::calls::legs::Legs,
    keep: &[bool],
    cited: impl Fn(&str) -> bool,
) -> Vec<Vec<usize>> {
    let failed = |c: &crate::calls::Call| {
        cited(&c.call_id)
            || (!c.invites.is_empty()
                && c.final_invite_status()
                    .is_none_or(|(status, _)| status >= 300))
    };
    // Groups of linked legs, each drawn once, in the order of their first call.
    let mut drawn = vec![false; calls.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        if drawn[i] || !keep[i] || !failed(c) {
            continue;
        }
        let mut group = vec![i];
        drawn[i] = true;
        for other in legs.linked(&c.call_id) {
            if let Some(p) = legs.position(&other).filter(|&p| p < drawn.len()) {
                group.push(p);
                drawn[p] = true;
            }
        }
        groups.push(group);
    }
    groups
}

/// With a focus, the findings about the calls kept: those naming a kept call, and those
/// naming none that cite a frame of a kept call or concern the capture as a whole (CAP).
pub(super) fn focused_findings(
    findings: Vec<crate::rules::Finding>,
    calls: &[crate::calls::Call],
    keep: &[bool],
    captures: &[String],
) -> Vec<crate::rules::Finding> {
    let kept: foldhash::HashSet<&str> = calls
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c.call_id.as_str())
        .collect();
    let frames: foldhash::HashSet<(Option<&str>, u64)> = calls
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .flat_map(|(c, _)| {
            let file = c
                .only_capture()
                .and_then(|one| captures.get(one))
                .map(String::as_str);
            c.messages.iter().map(move |m| (file, m.frame))
        })
        .collect();
    findings
        .into_iter()
        .filter(|f| match f.call_id.as_deref() {
            Some(id) => kept.contains(id),
            None => {
                f.id.starts_with("CAP")
                    || f.frames
                        .iter()
                        .any(|&n| frames.contains(&(f.capture.as_deref(), n)))
            }
        })
        .collect()
}

/// Frames a ladder marks as cited: (the file, where the finding names it; the frame).
pub(super) type CitedFrames<'a> = foldhash::HashSet<(Option<&'a str>, u64)>;

/// What a ladder draws besides the recorded messages: the calls shown with their legs,
/// the frames the findings on them (or on no call) cite, the roles, and whether several
/// files are read merged as one stream.
pub(super) struct Drawing<'a> {
    legs: foldhash::HashMap<&'a str, LegKind>,
    cited: CitedFrames<'a>,
    roles: &'a Roles,
    merged: bool,
}

impl<'a> Drawing<'a> {
    /// The calls of `legs` (by Call-ID), with `findings` and `roles`.
    fn new(
        legs: foldhash::HashMap<&'a str, LegKind>,
        findings: impl IntoIterator<Item = &'a crate::rules::Finding>,
        roles: &'a Roles,
        merged: bool,
    ) -> Self {
        let cited = (findings.into_iter())
            .filter(|f| f.call_id.as_deref().is_none_or(|id| legs.contains_key(id)))
            .flat_map(|f| f.frames.iter().map(|&n| (f.capture.as_deref(), n)))
            .collect();
        Drawing {
            legs,
            cited,
            roles,
            merged,
        }
    }

    /// The calls of `d` flagged in `keep`.
    pub(super) fn of(d: &'a Diagnosis, keep: &[bool]) -> Self {
        let legs = (d.calls.iter().zip(keep))
            .filter(|(_, k)| **k)
            .map(|(c, _)| (c.call_id.as_str(), d.legs.kind_of(&c.call_id)))
            .collect();
        Drawing::new(legs, &d.findings, &d.roles, d.index.is_some())
    }
}

/// The ladder of the calls `drawing` shows.
fn ladder(
    rec: &Recorder,
    drawing: &Drawing<'_>,
    captures: &[String],
    softphone_port: u16,
) -> Ladder {
    ladder_with_captures(rec, drawing, captures, softphone_port).0
}

/// [`ladder`], with the index of the capture file each arrow came from.
pub(super) fn ladder_with_captures(
    rec: &Recorder,
    drawing: &Drawing<'_>,
    captures: &[String],
    softphone_port: u16,
) -> (Ladder, Vec<usize>) {
    let cited = &drawing.cited;
    let mut msgs: Vec<&Recorded> = rec
        .messages
        .iter()
        .filter(|m| drawing.legs.contains_key(rec.call_ids[m.call].as_str()))
        .collect();
    msgs.sort_by(|a, b| a.time.cmp(&b.time).then(a.capture.cmp(&b.capture)));
    let mut ladder = Ladder::default();
    let host_at = |ladder: &mut Ladder, a: &SocketAddr| -> usize {
        let ip: IpAddr = a.ip();
        if let Some(i) = ladder.hosts.iter().position(|h| h.addr == ip) {
            return i;
        }
        ladder.hosts.push(Host {
            addr: ip,
            role: role_of(drawing.roles, a, softphone_port),
        });
        ladder.hosts.len() - 1
    };
    let mut call_at: foldhash::HashMap<usize, usize> = foldhash::HashMap::default();
    let start = msgs.first().map(|m| m.time);
    let arrow_captures = msgs.iter().map(|m| m.capture).collect();
    // Files read merged are one stream: frame numbers count through it, findings name no
    // file.
    let one_stream = captures.len() == 1 || drawing.merged;
    // Each file as the report shows it (`--redact`: `capture-N`), named once.
    let shown: Vec<String> = captures
        .iter()
        .map(|p| crate::redact::shown_path(p))
        .collect();
    for m in &msgs {
        let from = host_at(&mut ladder, &m.src);
        let to = host_at(&mut ladder, &m.dst);
        let call = *call_at.entry(m.call).or_insert_with(|| {
            let id = &rec.call_ids[m.call];
            let leg = match drawing
                .legs
                .get(id.as_str())
                .copied()
                .unwrap_or(LegKind::Other)
            {
                LegKind::First => "first leg",
                LegKind::Second => "second leg",
                LegKind::Other => "",
            };
            ladder.calls.push(LadderCall {
                call_id: id.clone(),
                leg,
                capture: (!one_stream)
                    .then(|| shown.get(m.capture).cloned())
                    .flatten(),
            });
            ladder.calls.len() - 1
        });
        // Findings name their file as the report shows it.
        let path = (shown.get(m.capture)).filter(|_| !drawing.merged);
        let evidence = cited.contains(&(path.map(String::as_str), m.frame))
            || (one_stream && cited.contains(&(None, m.frame)));
        ladder.arrows.push(Arrow {
            frame: m.frame,
            secs: start.map_or(0.0, |s| m.time.seconds_since(s)),
            from,
            to,
            label: m.label.clone(),
            call,
            evidence,
            is_request: m.is_request,
        });
    }
    (ladder, arrow_captures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `flow ARGS…`'s options.
    fn flow_args(args: &[&str]) -> FlowArgs {
        let cli = crate::cli::Cli::try_parse_from(["sipdiag", "flow"].iter().chain(args)).unwrap();
        match cli.command {
            crate::cli::Command::Flow(args) => args,
            _ => unreachable!("parsed as flow"),
        }
    }

    /// The ladder of `flow FOCUS… many-calls.pcap` read as a stream, and the one of every
    /// call held.
    fn both(focus: &[&str]) -> (Ladder, Ladder) {
        let path = format!(
            "{}/testdata/followme/many-calls.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let args = flow_args(&[focus, &[path.as_str()]].concat());
        let judge = crate::cli::JudgeArgs::default();
        let opts = DiagnoseOptions {
            site: &args.site,
            ports: &args.ports,
            judge: &judge,
        };
        let (ladder, errors) = streamed(&args, &opts, std::slice::from_ref(&path), 2230)
            .unwrap()
            .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let mut rec = Recorder::default();
        let (d, _) = diagnose(std::slice::from_ref(&path), &opts, &mut rec).unwrap();
        let d = d.unwrap();
        let keep = focus_of(&args).select(&d.calls, &d.legs);
        let held = ladder_with_captures(&rec, &Drawing::of(&d, &keep), &args.captures, 2230).0;
        (ladder.expect("read"), held)
    }

    fn arrows(l: &Ladder) -> Vec<(u64, String, bool)> {
        (l.arrows.iter())
            .map(|a| (a.frame, a.label.clone(), a.evidence))
            .collect()
    }

    /// `flow` of one file reads it as a stream, then again for the messages of the calls
    /// it draws: a Follow-Me second leg brings its first leg, every message of both drawn
    /// (none of the other 64 calls); a number brings the call that forwards it, the frames
    /// its finding cites marked. The same arrows as when every call is held.
    #[test]
    fn flow_of_several_files_streams_them_merged() {
        let file = |rel: &str| format!("{}/testdata/followme/{rel}", env!("CARGO_MANIFEST_DIR"));
        let (pbx, xcc) = (file("merge-pbx-side.pcap"), file("merge-xcc-side.pcapng"));
        super::super::watch::READINGS.with(|r| r.set(0));
        assert_eq!(flow(&flow_args(&[pbx.as_str(), xcc.as_str()])).unwrap(), 0);
        assert!(super::super::watch::READINGS.with(|r| r.get()) >= 1);
    }

    #[test]
    fn flow_of_one_file_streams_and_draws_the_calls_shown() {
        let path = format!(
            "{}/testdata/followme/many-calls.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let focus = ["--call-id", "516dfc03bb884876380ae5d8@127.0.0.20"];
        super::super::watch::READINGS.with(|r| r.set(0));
        let args = flow_args(&[&focus[..], &[path.as_str()]].concat());
        assert_eq!(flow(&args).unwrap(), 0);
        assert!(super::super::watch::READINGS.with(|r| r.get()) >= 1);
        let (ladder, held) = both(&focus);
        let ids: Vec<&str> = ladder.calls.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "7a8703aba1c89160667956f2@127.0.0.10",
                "516dfc03bb884876380ae5d8@127.0.0.20"
            ]
        );
        assert!(ladder.arrows.len() >= 10, "{}", ladder.arrows.len());
        assert_eq!(arrows(&ladder), arrows(&held));
        let (ladder, held) = both(&["--number", "+49891001"]);
        assert_eq!(ladder.calls.len(), 1);
        assert!(
            ladder.arrows.iter().any(|a| a.evidence),
            "FM002 cites frames"
        );
        assert_eq!(arrows(&ladder), arrows(&held));
    }

    fn focus_of(args: &FlowArgs) -> Focus {
        focus(&args.focus).unwrap()
    }
}
