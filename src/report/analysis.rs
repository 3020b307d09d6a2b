//! `analyze`: findings as a table, JSON (schema_version 1) or markdown.

use comfy_table::{Cell, Color};
use serde::Serialize;

use crate::app::CaptureReport;
use crate::calls::legs::{LegKind, Legs, Roles};
use crate::calls::{Call, ForwardingEntry, chain_text};
use crate::numbers::Site;
use crate::rules::{Finding, Severity};

use super::listing::{SCHEMA_VERSION, captures_footer};

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
}

impl CallSummary {
    pub fn new(c: &Call, legs: &Legs) -> Self {
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
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// The whole `analyze` result: what JSON carries and every renderer reads.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Analysis {
    pub schema_version: u32,
    pub tool: Tool,
    pub site: Site,
    pub roles: Roles,
    pub captures: Vec<CaptureReport>,
    pub calls: Vec<CallSummary>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl Analysis {
    pub fn new(
        site: Site,
        roles: Roles,
        captures: Vec<CaptureReport>,
        calls: Vec<CallSummary>,
        findings: Vec<Finding>,
    ) -> Self {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
        };
        Analysis {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "sipdiag",
                version: env!("CARGO_PKG_VERSION"),
            },
            site,
            roles,
            captures,
            calls,
            findings,
            summary,
        }
    }
}

/// The JSON Schema of [`Analysis`], generated from the types (checked in as
/// `src/report/analyze.schema.json`; a test fails when it is stale).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Analysis);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

use std::io::Write as _;

/// The JSON report, written as it is serialised (a large capture's report runs to tens
/// of megabytes: no copy of it is held).
pub fn write_json(a: &Analysis, out: impl std::io::Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, a)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Blue,
    }
}

/// Terminal report: the findings table, each finding's message and fix, then calls,
/// roles and captures. `color` is decided by the caller (terminal, NO_COLOR).
pub fn table(a: &Analysis, color: bool) -> String {
    let mut out = String::new();
    if a.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        let mut t = super::new_table(&["#", "Severity", "Rule", "Finding", "Call-ID", "Frames"]);
        if !color {
            t.force_no_tty();
        } else {
            t.enforce_styling();
        }
        for (i, f) in a.findings.iter().enumerate() {
            let mut sev = Cell::new(f.severity.to_string());
            if color {
                sev = sev.fg(severity_color(f.severity));
            }
            t.add_row(vec![
                Cell::new(i + 1),
                sev,
                Cell::new(format!("{} {}", f.id, f.slug)),
                Cell::new(&f.title),
                Cell::new(f.call_id.clone().unwrap_or_default()),
                Cell::new(short_frames(&f.frames)),
            ]);
        }
        out.push_str(&format!("{t}\n\n"));
        for (i, f) in a.findings.iter().enumerate() {
            out.push_str(&format!(
                "{}. [{}] {}: {}\n   {}\n",
                i + 1,
                f.id,
                f.severity,
                f.title,
                f.message
            ));
            if let Some(k) = stated_before(a, i) {
                out.push_str(&format!("   Suggestion: as for finding {}\n", k + 1));
            } else if let Some(s) = &f.suggestion
                && let Some(p) = s.get("xcc_diversion_pattern").and_then(|v| v.as_str())
            {
                out.push_str(&format!(
                    "   {}: {}\n",
                    rewrites_label(s),
                    rewrites_text(s, "", " → ")
                ));
                for pr in s["proof"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "     {} → {} ({}){}\n",
                        pr["observed"].as_str().unwrap_or(""),
                        pr["rewritten"].as_str().unwrap_or(""),
                        pr["format_after"].as_str().unwrap_or(""),
                        unresolved(pr, ": ")
                    ));
                }
                out.push_str(&format!(
                    "   Candidate XccDiversionPattern: {p}\n   ({})\n",
                    crate::numbers::pattern::SYNTAX_CAVEAT
                ));
            }
            if !f.wireshark_filter.is_empty() {
                out.push_str(&format!("   Wireshark: {}\n", f.wireshark_filter));
            }
            if a.captures.len() > 1 {
                let file = f.capture.as_deref().unwrap_or("several files");
                out.push_str(&format!("   Capture: {file}\n"));
            }
        }
        out.push('\n');
    }
    let legs = leg_rows(a);
    if !legs.is_empty() {
        let mut t = super::new_table(&LEG_HEADER);
        for r in legs {
            t.add_row(r.to_vec());
        }
        out.push_str(&format!("Follow-Me legs\n{t}\n"));
    }
    out.push_str(&roles_text(a));
    out.push_str(&captures_footer(&a.captures));
    out.push_str(&format!(
        "{} error(s), {} warning(s), {} info\n",
        a.summary.error, a.summary.warning, a.summary.info
    ));
    out
}

const LEG_HEADER: [&str; 8] = [
    "Call-ID",
    "Leg",
    "Linked",
    "From",
    "To",
    "Diversion",
    "INVITE",
    "Result",
];

/// The Follow-Me legs (first and second), one row each, for every report format.
fn leg_rows(a: &Analysis) -> Vec<[String; 8]> {
    a.calls
        .iter()
        .filter(|c| c.leg != LegKind::Other)
        .map(|c| {
            [
                c.call_id.clone(),
                format!("{:?}", c.leg).to_lowercase(),
                c.linked_call_ids.join(" "),
                c.from.clone().unwrap_or_default(),
                c.to.clone().unwrap_or_default(),
                if c.forwarding.is_empty() {
                    c.diversion.join(" ")
                } else {
                    chain_text(&c.forwarding)
                },
                c.invite_frame.map(|f| f.to_string()).unwrap_or_default(),
                match (c.final_status, c.final_frame) {
                    (Some(s), Some(f)) => format!("{s} (frame {f})"),
                    _ => "no final response".into(),
                },
            ]
        })
        .collect()
}

fn roles_text(a: &Analysis) -> String {
    let mut out = String::new();
    for r in &a.roles.reasons {
        out.push_str(&format!("Roles: {r}\n"));
    }
    for i in &a.site.inferred {
        out.push_str(&format!("Site: {i}\n"));
    }
    out
}

fn short_frames(frames: &[u64]) -> String {
    let shown: Vec<String> = frames.iter().take(6).map(u64::to_string).collect();
    if frames.len() > 6 {
        format!("{} …", shown.join(" "))
    } else {
        shown.join(" ")
    }
}

/// The earlier finding that already stated finding `i`'s suggestion (the same shared
/// value): a suggestion that serves many findings is printed once.
fn stated_before(a: &Analysis, i: usize) -> Option<usize> {
    let s = a.findings[i].suggestion.as_ref()?;
    a.findings[..i].iter().position(|f| {
        f.suggestion
            .as_ref()
            .is_some_and(|t| std::sync::Arc::ptr_eq(s, t))
    })
}

/// A proof entry's reason why the number is still not understood, after `sep`.
fn unresolved(proof: &serde_json::Value, sep: &str) -> String {
    proof["unresolved"]
        .as_str()
        .map(|u| format!("{sep}{u}"))
        .unwrap_or_default()
}

/// "Rewrite" or "Rewrites (first match applies)".
fn rewrites_label(s: &serde_json::Value) -> &'static str {
    match s["rewrites"].as_array().map_or(0, Vec::len) {
        0 | 1 => "Rewrite",
        _ => "Rewrites (the first that matches applies)",
    }
}

/// Every rewrite of a suggestion, `match`/`replace` joined by `arrow` and quoted by `q`.
fn rewrites_text(s: &serde_json::Value, q: &str, arrow: &str) -> String {
    let all: Vec<&serde_json::Value> = match s["rewrites"].as_array() {
        Some(r) if !r.is_empty() => r.iter().collect(),
        _ => vec![&s["rewrite"]],
    };
    all.iter()
        .map(|r| {
            format!(
                "{q}{}{arrow}{}{q}",
                r["match"].as_str().unwrap_or(""),
                r["replace"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Markdown for tickets.
pub fn markdown(a: &Analysis) -> String {
    let mut out = String::from("## sipdiag report\n\n");
    out.push_str(&format!(
        "**{} error(s), {} warning(s), {} info** in {}\n\n",
        a.summary.error,
        a.summary.warning,
        a.summary.info,
        a.captures
            .iter()
            .map(|c| format!("`{}`", c.path))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if !a.findings.is_empty() {
        out.push_str("| # | Severity | Rule | Finding | Frames |\n|---|---|---|---|---|\n");
        for (i, f) in a.findings.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {} {} | {} | {} |\n",
                i + 1,
                f.severity,
                f.id,
                f.slug,
                f.title.replace('|', "\\|"),
                short_frames(&f.frames)
            ));
        }
        out.push('\n');
        for (i, f) in a.findings.iter().enumerate() {
            out.push_str(&format!(
                "### {}. {} {}: {}\n\n{}\n\n",
                i + 1,
                f.id,
                f.slug,
                f.title,
                f.message
            ));
            if let Some(k) = stated_before(a, i) {
                out.push_str(&format!("Suggestion: as for finding {}.\n\n", k + 1));
            } else if let Some(s) = &f.suggestion
                && let Some(p) = s.get("xcc_diversion_pattern").and_then(|v| v.as_str())
            {
                out.push_str(&format!(
                    "{} {}:\n\n",
                    rewrites_label(s),
                    rewrites_text(s, "`", "` → `")
                ));
                for pr in s["proof"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "- `{}` → `{}` ({}){}\n",
                        pr["observed"].as_str().unwrap_or(""),
                        pr["rewritten"].as_str().unwrap_or(""),
                        pr["format_after"].as_str().unwrap_or(""),
                        unresolved(pr, ": ")
                    ));
                }
                out.push_str(&format!(
                    "\nCandidate XccDiversionPattern: `{p}`  \n_{}_\n\n",
                    crate::numbers::pattern::SYNTAX_CAVEAT
                ));
            }
            if !f.wireshark_filter.is_empty() {
                out.push_str(&format!("Wireshark filter: `{}`\n\n", f.wireshark_filter));
            }
            if a.captures.len() > 1 {
                let file = f.capture.as_deref().unwrap_or("several files");
                out.push_str(&format!("Capture: `{file}`\n\n"));
            }
        }
    } else {
        out.push_str("No findings.\n\n");
    }
    let legs = leg_rows(a);
    if !legs.is_empty() {
        out.push_str("#### Follow-Me legs\n\n| ");
        out.push_str(&LEG_HEADER.join(" | "));
        out.push_str(" |\n|---|---|---|---|---|---|---|---|\n");
        for r in legs {
            out.push_str(&format!("| `{}` |", r[0]));
            for cell in &r[1..] {
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let roles = roles_text(a);
    if !roles.is_empty() {
        out.push_str(
            &roles
                .lines()
                .map(|l| format!("- {l}\n"))
                .collect::<String>(),
        );
    }
    out
}
