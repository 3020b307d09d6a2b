//! `sipdiag watch` output: what is printed as each call is judged, and at the end.
//!
//! Input: the [`Analysis`] of one call with its linked Follow-Me leg (no captures, no call
//! list), or the closing [`WatchEnd`]. Output: a block of text (the verdict line and the
//! findings as `analyze` prints them, after the time the call began), or one line of JSON
//! (JSON Lines: `"type":"call"` per judged call, `"type":"end"` once).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use super::analysis::{self, Analysis, ReportedFinding, TextOptions};
use super::verdict::Verdict;
use crate::capture::Timestamp;
use crate::capture::merge::FrameIndex;
use crate::rules::Finding;
use crate::sip::CaptureReport;

/// When a call began, as the blocks and records show it: RFC 3339, UTC, whole seconds in
/// the text (`2026-12-03 07:14:03`), microseconds in JSON.
fn began(t: Option<Timestamp>) -> Option<String> {
    let b = t?.rfc3339()?;
    std::str::from_utf8(&b).ok().map(str::to_string)
}

/// A judged call as text: when it began and its verdict, then its findings with proof and
/// suggestion; with `files` (several files read, frames numbered through them), where
/// each cited frame is.
pub fn call_block(
    a: &Analysis,
    began_at: Option<Timestamp>,
    o: &TextOptions,
    files: Option<&FrameIndex>,
) -> String {
    let mut out = String::new();
    let when = began(began_at).map(|t| format!("{} ", t[..19].replacen('T', " ", 1)));
    for v in analysis::verdict_lines(a, o.verbose) {
        let v = format!("{}{v}", when.as_deref().unwrap_or(""));
        out.push_str(&analysis::wrap_lines(&v, o.width));
    }
    analysis::findings_section(a, o, &mut out);
    if let Some(index) = files.filter(|_| !a.findings.is_empty()) {
        out.push_str(&crate::report::wrap_lines(
            &super::cited::legend(a, index, false, o.verbose),
            o.width,
        ));
    }
    out
}

/// One judged call as a JSON Lines record.
#[derive(Serialize)]
struct CallRecord<'a> {
    r#type: &'static str,
    /// The first message of the call (or of its first leg), RFC 3339 UTC.
    time: Option<String>,
    verdicts: &'a [Verdict],
    findings: &'a [ReportedFinding],
    suggestions: &'a [std::sync::Arc<serde_json::Value>],
}

/// A judged call as one line of JSON (no line break inside; `\n` at the end); with
/// `files` (several files read), its findings' frames cited by file and frame number, as
/// `analyze` cites them.
pub fn call_json(a: &Analysis, began_at: Option<Timestamp>, files: Option<&FrameIndex>) -> String {
    let rec = CallRecord {
        r#type: "call",
        time: began(began_at),
        verdicts: &a.verdicts,
        findings: &a.findings,
        suggestions: &a.suggestions,
    };
    let Some(index) = files else {
        return serde_json::to_string(&rec).unwrap_or_default() + "\n";
    };
    let mut v = serde_json::to_value(&rec).unwrap_or_default();
    super::cited::cite_findings(&mut v, index);
    serde_json::to_string(&v).unwrap_or_default() + "\n"
}

/// What a watch saw in all, printed when it ends.
#[derive(Debug, Default, Serialize)]
pub struct WatchEnd {
    /// Calls judged (each Call-ID once, linked legs counted each).
    pub calls: u64,
    /// Verdicts that were not healthy.
    pub failed: u64,
    /// Findings printed, by rule id.
    pub findings: BTreeMap<&'static str, u64>,
    /// Calls split because a message came after the call had been judged.
    pub reopened: u64,
    /// SP003 findings on calls judged while the capture had shown no UDP besides SIP,
    /// past the 1,000 that wait to be printed once UDP comes (`app::watch`'s
    /// `DEFERRED_FINDINGS`): counted here, not printed.
    #[serde(skip_serializing_if = "is_zero")]
    pub deferred_left_out: u64,
    /// The most calls held at once.
    pub peak_calls: usize,
    /// The most calls that had ended and waited at once to be judged: for the calls they
    /// may be linked with, or for the end of the capture second they retired in.
    pub peak_waiting: usize,
    /// The files read, in order (a rotated set file by file).
    pub captures: Vec<CaptureReport>,
    /// Findings on the files themselves (damage, limits), from the capture rules.
    pub capture_findings: Vec<Finding>,
    /// The first softphone signalling seen (TCP on the softphone port): its calls and
    /// media are not judged by the watch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub softphone_signalling: Option<SoftphoneSeen>,
}

/// The first TCP segment seen on the softphone signalling port: `capture`'s own `frame`.
#[derive(Debug, Clone, Serialize)]
pub struct SoftphoneSeen {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub capture: String,
    pub frame: u64,
}

impl SoftphoneSeen {
    /// The connection as the media stage records one, from this segment alone: what the
    /// capture rules read of it (that there is one).
    pub fn flow(&self) -> crate::media::SignalFlow {
        crate::media::SignalFlow {
            client: self.client,
            server: self.server,
            first_frame: self.frame,
            last_frame: self.frame,
            segments: 1,
            client_bytes: 0,
            server_bytes: 0,
            first_time: Timestamp::default(),
            last_time: Timestamp::default(),
            frames: vec![self.frame],
        }
    }
}

/// The closing line(s) as text; with `files` (several files read), where the frames the
/// findings that compare calls cite are.
pub fn end_text(e: &WatchEnd, o: &TextOptions, files: Option<&FrameIndex>) -> String {
    let mut out = String::new();
    let by = analysis::counts_by_rule(e.findings.iter().map(|(id, n)| (*id, *n)));
    let mut line = format!(
        "{} call{} judged, {} failed",
        e.calls,
        if e.calls == 1 { "" } else { "s" },
        e.failed
    );
    if !by.is_empty() {
        line.push_str(&format!("; findings: {by}"));
    }
    line.push('.');
    if e.reopened > 0 {
        line.push_str(&format!(
            " {} call(s) had messages after they were judged (judged again as new calls).",
            e.reopened
        ));
    }
    if e.deferred_left_out > 0 {
        line.push_str(&format!(
            " {} SP003 finding(s) on calls judged before the capture showed any UDP are not printed (more waited for it than are kept).",
            e.deferred_left_out,
        ));
    }
    out.push_str(&analysis::wrap_lines(&line, o.width));
    if let Some(s) = &e.softphone_signalling {
        out.push_str(&analysis::wrap_lines(
            &format!(
                "Softphone signalling from {} to {} ({} frame {}): its media (ICE, RTP) is judged with the capture's findings.",
                s.client, s.server, s.capture, s.frame
            ),
            o.width,
        ));
    }
    for f in &e.capture_findings {
        out.push_str(&analysis::wrap_lines(
            &format!("[{} {}] {}: {}", f.id, f.slug, f.severity, f.message),
            o.width,
        ));
        // The cited frames in Wireshark, as `analyze` gives them (FM001, FM005 have one).
        if !f.wireshark_filter.is_empty() {
            out.push_str(&format!("  Wireshark: {}\n", f.wireshark_filter));
        }
        if let Some(index) = files.filter(|_| !f.id.starts_with("CAP") && !f.frames.is_empty()) {
            let at: Vec<String> = (f.frames.iter())
                .flat_map(|&n| index.cited_frames(n).into_iter().map(move |c| (n, c)))
                .map(|(n, c)| format!("frame {n} is {} frame {}", c.capture, c.frame))
                .collect();
            out.push_str(&analysis::wrap_lines(
                &format!("  ({})", at.join(", ")),
                o.width,
            ));
        }
    }
    out.push_str(&analysis::wrap_lines(
        &super::listing::captures_footer(&e.captures),
        o.width,
    ));
    out
}

/// The closing JSON Lines record; with `files` (several files read), the frames of the
/// findings that compare calls (FM001, FM005: counted through the files) cited by file
/// and frame number. The capture findings (CAP…) cite each file's own frame numbers.
pub fn end_json(e: &WatchEnd, files: Option<&FrameIndex>) -> String {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    if let Some(index) = files
        && let Some(found) = v["capture_findings"].as_array_mut()
    {
        for f in found {
            if !f["id"].as_str().is_some_and(|id| id.starts_with("CAP")) {
                super::cited::cite_frames(f, index);
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.insert("type".into(), "end".into());
    }
    serde_json::to_string(&v).unwrap_or_default() + "\n"
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
