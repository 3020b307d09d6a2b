//! `sipdiag flow`: the diagnosis of `analyze`, drawn as a ladder of the selected calls.
//!
//! The scan files messages as calls (for roles, legs and rules) and records, per message,
//! what an arrow shows (ends, method or status with reason, frame, time): the call model
//! keeps no reason phrases, and the ladder must quote them as sent.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::focus::Focus;
use crate::calls::legs::{LegKind, Roles};
use crate::capture::Timestamp;
use crate::capture::time::TimeSpec;
use crate::cli::{FlowArgs, FlowFormat, FocusArgs};
use crate::report::flow::{Arrow, Host, Ladder, LadderCall};
use crate::sip::SipMessage;

use super::{CallSink, DiagnoseOptions, Diagnosis, Sink, diagnose, finish, write_out};

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
}

impl Sink for Recorder {
    fn capture_start(&mut self, index: usize) {
        self.capture = index;
        self.set.capture_start(index);
    }

    fn message(&mut self, m: SipMessage) {
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
    let mut rec = Recorder::default();
    let (d, errors) = diagnose(&args.captures, &opts, &mut rec)?;
    let Some(d) = d else {
        return finish(errors);
    };
    let keep = focus.select(&d.calls, &d.legs);
    check_selection(&focus, &keep)?;
    let softphone_port = args.ports.softphone_port.unwrap_or(2230);
    let ladder = ladder(&rec, &d, &keep, &args.captures, softphone_port);
    let width = crate::report::terminal_width();
    let text = match args.format {
        FlowFormat::Text => ladder.text(width),
        FlowFormat::Markdown => ladder.markdown(width),
        FlowFormat::Mermaid => ladder.mermaid(),
    };
    write_out(&text).context("writing the ladder")?;
    finish(errors)
}

/// At most this many ladders follow `analyze --flow`'s report.
const MAX_LADDERS: usize = 5;

/// The ladders `analyze --flow` appends: one per failed call among those kept, with the
/// legs linked to it (a call fails with a final INVITE status of 300 or more, no final
/// response, or a finding about it).
pub(super) fn failed_call_ladders(
    rec: &Recorder,
    d: &Diagnosis,
    keep: &[bool],
    captures: &[String],
    ports: &crate::cli::MediaPortArgs,
    markdown: bool,
) -> String {
    let groups = failed_groups(d, keep);
    if groups.is_empty() {
        return String::new();
    }
    let calls = d.calls.len();
    let width = crate::report::terminal_width();
    let softphone_port = ports.softphone_port.unwrap_or(2230);
    let total = groups.len();
    let mut out = String::new();
    for (n, group) in groups.iter().take(MAX_LADDERS).enumerate() {
        let l = ladder(rec, d, &flags(group, calls), captures, softphone_port);
        if markdown {
            out.push_str(&format!("\n### Call flow {} of {total}\n\n", n + 1));
            out.push_str(&l.markdown(width));
        } else {
            out.push_str(&format!("\nCall flow {} of {total} (failed):\n", n + 1));
            out.push_str(&l.text(width));
        }
    }
    if total > MAX_LADDERS {
        out.push_str(&format!(
            "\n…and {} more failed calls: `sipdiag flow --call-id ID` draws any of them.\n",
            total - MAX_LADDERS
        ));
    }
    out
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
    let failed = |c: &crate::calls::Call| {
        cited.contains(c.call_id.as_str())
            || (!c.invites.is_empty()
                && c.final_invite_status()
                    .is_none_or(|(status, _)| status >= 300))
    };
    // Groups of linked legs, each drawn once, in the order of their first call.
    let mut drawn = vec![false; d.calls.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, c) in d.calls.iter().enumerate() {
        if drawn[i] || !keep[i] || !failed(c) {
            continue;
        }
        let mut group = vec![i];
        drawn[i] = true;
        for other in d.legs.linked(&c.call_id) {
            if let Some(p) = d.legs.position(&other).filter(|&p| p < drawn.len()) {
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

/// The ladder of the calls flagged in `keep`.
fn ladder(
    rec: &Recorder,
    d: &Diagnosis,
    keep: &[bool],
    captures: &[String],
    softphone_port: u16,
) -> Ladder {
    ladder_with_captures(rec, d, keep, captures, softphone_port).0
}

/// [`ladder`], with the index of the capture file each arrow came from.
pub(super) fn ladder_with_captures(
    rec: &Recorder,
    d: &Diagnosis,
    keep: &[bool],
    captures: &[String],
    softphone_port: u16,
) -> (Ladder, Vec<usize>) {
    let shown: foldhash::HashSet<&str> = d
        .calls
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c.call_id.as_str())
        .collect();
    // Frames cited by findings on the calls shown (or on no call), per capture file.
    let cited: foldhash::HashSet<(Option<&str>, u64)> = d
        .findings
        .iter()
        .filter(|f| f.call_id.as_deref().is_none_or(|id| shown.contains(id)))
        .flat_map(|f| f.frames.iter().map(|&n| (f.capture.as_deref(), n)))
        .collect();
    let mut msgs: Vec<&Recorded> = rec
        .messages
        .iter()
        .filter(|m| shown.contains(rec.call_ids[m.call].as_str()))
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
            role: role_of(&d.roles, a, softphone_port),
        });
        ladder.hosts.len() - 1
    };
    let mut call_at: foldhash::HashMap<usize, usize> = foldhash::HashMap::default();
    let start = msgs.first().map(|m| m.time);
    let arrow_captures = msgs.iter().map(|m| m.capture).collect();
    // Files read merged are one stream: frame numbers count through it, findings name no
    // file.
    let one_stream = captures.len() == 1 || d.index.is_some();
    for m in &msgs {
        let from = host_at(&mut ladder, &m.src);
        let to = host_at(&mut ladder, &m.dst);
        let call = *call_at.entry(m.call).or_insert_with(|| {
            let id = &rec.call_ids[m.call];
            let leg = match d.legs.kind_of(id) {
                LegKind::First => "first leg",
                LegKind::Second => "second leg",
                LegKind::Other => "",
            };
            ladder.calls.push(LadderCall {
                call_id: id.clone(),
                leg,
                capture: (!one_stream)
                    .then(|| captures.get(m.capture).cloned())
                    .flatten(),
            });
            ladder.calls.len() - 1
        });
        let path = captures
            .get(m.capture)
            .map(String::as_str)
            .filter(|_| d.index.is_none());
        let evidence =
            cited.contains(&(path, m.frame)) || (one_stream && cited.contains(&(None, m.frame)));
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
