//! `analyze`: the report as a table, JSON (schema_version 2) or markdown.
//!
//! Every format says what happened before why: the run's counts, one verdict per call or
//! Follow-Me pair (failed ones always, healthy ones up to a few, the rest counted), then the
//! findings grouped by rule and cause, each group with its proof quoted, its Wireshark
//! filter and a reference to the one suggestion it shares with others. `--verbose` (and
//! JSON) list every instance.

use serde::Serialize;

use crate::calls::legs::{LegKind, Legs, Roles};
use crate::calls::{Call, ForwardingEntry};
use crate::numbers::Site;
use crate::rules::{Finding, Severity};
use crate::sip::CaptureReport;

use super::verdict::{Counts, FindingGroup, LegMedia, Verdict};

mod markdown;
mod text;
mod verdict_lines;

pub use markdown::{markdown, write_markdown};
pub(crate) use text::{
    INSTANCES_SHOWN, LEG_HEADER, LEGS_SHOWN, counts_by_rule, findings_line, findings_section,
    headline, instances, leg_rows, roles_text, shown_legs, suggestion_text, wrap_lines,
};
pub use text::{TextOptions, table, write_table};
pub use verdict_lines::{VerdictLines, VerdictOut, VerdictSource};
pub(crate) use verdict_lines::{held_verdicts, verdict_label, verdict_lines};

/// The `analyze` JSON's version: 2 since findings are grouped and share their suggestion.
pub const ANALYZE_SCHEMA_VERSION: u32 = 2;

/// One call as the report shows it, Follow-Me legs linked.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CallSummary {
    pub call_id: String,
    pub leg: LegKind,
    pub linked_call_ids: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub diversion: Vec<String>,
    /// Every Diversion (else History-Info) entry of the first INVITE, in header order,
    /// the one XCC looks the user up by marked `used`.
    pub forwarding: Vec<ForwardingEntry>,
    pub invite_frame: Option<u64>,
    pub final_status: Option<u16>,
    pub final_frame: Option<u64>,
    /// The RTP its SDP announced, each direction: the streams filed under its SDP, and
    /// those between two of its SDP's addresses while it lasted (B2BUA legs bridged to
    /// direct media share theirs).
    pub media: Vec<LegMedia>,
    /// Present when the messages carry no Call-ID header: how they were grouped
    /// (`call_id` then holds a made-up key starting with `(no Call-ID)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_call_id: Option<crate::calls::NoCallIdKey>,
}

impl CallSummary {
    pub fn new(c: &Call, legs: &Legs, media: &crate::media::MediaReport) -> Self {
        let inv = c.initial_invite();
        let fin = c.final_invite_status();
        let mut diversion: Vec<String> = inv
            .map(|t| {
                t.diversion
                    .iter()
                    .filter_map(|d| d.addr.user.clone())
                    .collect()
            })
            .unwrap_or_default();
        if diversion.is_empty() {
            diversion = inv
                .map(|t| {
                    t.history_info
                        .iter()
                        .filter_map(|h| h.addr.user.clone())
                        .collect()
                })
                .unwrap_or_default();
        }
        CallSummary {
            call_id: c.call_id.clone(),
            leg: legs.kind_of(&c.call_id),
            linked_call_ids: legs.linked(&c.call_id),
            from: inv
                .and_then(|t| t.from.as_ref())
                .and_then(|f| f.user.clone()),
            to: inv.and_then(|t| t.to.as_ref()).and_then(|f| f.user.clone()),
            diversion,
            forwarding: inv.map(|t| t.forwarding()).unwrap_or_default(),
            invite_frame: inv.map(|t| t.request_frame),
            final_status: fin.map(|f| f.0),
            final_frame: fin.map(|f| f.1),
            media: super::verdict::leg_media(c, media),
            no_call_id: c.no_call_id().cloned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// A finding as the report carries it: its suggestion as an index into `suggestions`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// Index into the report's `suggestions` (shared by every finding it serves).
    pub suggestion: Option<usize>,
}

/// The whole `analyze` result: what JSON carries and every renderer reads.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Analysis {
    pub schema_version: u32,
    pub tool: Tool,
    pub site: Site,
    pub roles: Roles,
    pub captures: Vec<CaptureReport>,
    pub summary: Summary,
    /// One per call with an INVITE (second legs folded into their first leg's), in order.
    pub verdicts: Vec<Verdict>,
    pub calls: Vec<CallSummary>,
    /// Findings by rule and cause, in report order (worst first).
    pub groups: Vec<FindingGroup>,
    /// Suggestions, each once; findings refer to them by index.
    pub suggestions: Vec<std::sync::Arc<serde_json::Value>>,
    pub findings: Vec<ReportedFinding>,
    /// What a text report of an analysis that streamed leaves out of `verdicts` and
    /// `calls` (it holds only the rows it shows; see [`super::analysis_spool`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) omitted: Omitted,
    /// The media streams an HTML page of an analysis that streamed lists (`calls` holds
    /// only the Follow-Me legs shown); `None`: those of `calls`.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) streams: Option<StreamRows>,
}

/// The calls that hold the first media streams of a capture, in report order, and how
/// many streams all its calls have: what an HTML page lists of them (the first
/// [`STREAMS_SHOWN`](super::html::STREAMS_SHOWN), every one when verbose), kept as the
/// calls are judged.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamRows {
    pub(crate) calls: Vec<CallSummary>,
    pub(crate) total: usize,
}

/// Rows a streamed text report does not hold, counted: Follow-Me legs past the first
/// ones, calls without a Call-ID among those (its verdicts it reads back from their
/// spool as it is written).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Omitted {
    pub(crate) legs: usize,
    pub(crate) no_call_id: usize,
}

impl Analysis {
    pub fn new(
        site: Site,
        roles: Roles,
        captures: Vec<CaptureReport>,
        calls: Vec<CallSummary>,
        counts: Counts,
        verdicts: Vec<Verdict>,
        findings: Vec<Finding>,
    ) -> Self {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            counts,
        };
        let groups = super::verdict::group(&findings);
        let (suggestions, refs) = super::verdict::shared_suggestions(&findings);
        let findings = findings
            .into_iter()
            .zip(refs)
            .map(|(finding, suggestion)| ReportedFinding {
                finding,
                suggestion,
            })
            .collect();
        Analysis {
            schema_version: ANALYZE_SCHEMA_VERSION,
            tool: Tool {
                name: "sipdiag",
                version: env!("CARGO_PKG_VERSION"),
            },
            site,
            roles,
            captures,
            summary,
            verdicts,
            calls,
            groups,
            suggestions,
            findings,
            omitted: Omitted::default(),
            streams: None,
        }
    }

    pub(crate) fn finding(&self, i: usize) -> &Finding {
        &self.findings[i].finding
    }
}

/// The JSON Schema of [`Analysis`], generated from the types (checked in as
/// `src/report/analyze.schema.json`; a test fails when it is stale).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Analysis);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

use std::io::Write as _;

/// The JSON report, written as it is serialised (a large capture's report runs to
/// megabytes: no copy of it is held).
pub fn write_json(a: &Analysis, out: impl std::io::Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, a)?;
    out.write_all(b"\n")?;
    out.flush()
}
