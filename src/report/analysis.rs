//! `analyze`: the report as a table, JSON (schema_version 2) or markdown.
//!
//! Every format says what happened before why: the run's counts, one verdict per call or
//! Follow-Me pair (failed ones always, healthy ones up to a few, the rest counted), then the
//! findings grouped by rule and cause, each group with its proof quoted, its Wireshark
//! filter and a reference to the one suggestion it shares with others. `--verbose` (and
//! JSON) list every instance.

use comfy_table::Color;
use serde::Serialize;

use crate::calls::legs::{LegKind, Legs, Roles};
use crate::calls::{Call, ForwardingEntry, chain_text};
use crate::numbers::Site;
use crate::rules::{Finding, Severity};
use crate::sip::CaptureReport;

use super::flow::shorten_middle;
use super::listing::{captures_footer, no_call_id_note};
use super::verdict::{Counts, FindingGroup, LegMedia, Verdict};

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
    /// The RTP its SDP announced, each direction.
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
            no_call_id: c.no_call_id.clone(),
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

use std::fmt::Write as _;
use std::io::Write as _;

/// The JSON report, written as it is serialised (a large capture's report runs to
/// megabytes: no copy of it is held).
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

/// How the text report is laid out.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    /// ANSI colours (decided by the caller: terminal, NO_COLOR, --color).
    pub color: bool,
    /// Every finding of a group and every healthy call, full Call-IDs.
    pub verbose: bool,
    /// Columns to fit into.
    pub width: usize,
}

/// Healthy verdicts shown before the rest are counted.
pub(crate) const HEALTHY_SHOWN: usize = 3;
/// Instances (calls) named per group before "…and N more".
const INSTANCES_SHOWN: usize = 3;

/// `7 calls: 3 Follow-Me calls linked to their second leg; 3 answered, 4 failed (3 × 503, 1 × 486)`.
pub(crate) fn headline(a: &Analysis) -> String {
    let k = &a.summary.counts;
    if k.calls == 0 {
        return "No call (no INVITE) in the capture.".into();
    }
    let mut s = format!("{} call{}", k.calls, if k.calls == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if k.followme_linked > 0 {
        parts.push(format!(
            "{} Follow-Me call{} with both legs linked",
            k.followme_linked,
            if k.followme_linked == 1 { "" } else { "s" }
        ));
    }
    parts.push(format!("{} answered", k.answered));
    if k.failed > 0 {
        let by: Vec<String> = k
            .failed_by_status
            .iter()
            .map(|(s, n)| format!("{n} × {s}"))
            .collect();
        parts.push(format!("{} failed ({})", k.failed, by.join(", ")));
    }
    if k.unanswered > 0 {
        parts.push(format!("{} without final response", k.unanswered));
    }
    let _ = write!(s, ": {}", parts.join(", "));
    if k.ice_sessions > 0 {
        let _ = write!(
            s,
            "; {} softphone ICE session{}, {} with checks answered",
            k.ice_sessions,
            if k.ice_sessions == 1 { "" } else { "s" },
            k.ice_connected
        );
    }
    s.push('.');
    s
}

pub(crate) fn findings_line(a: &Analysis) -> String {
    if a.findings.is_empty() {
        return "No findings.".into();
    }
    let by: Vec<String> = a
        .summary
        .counts
        .findings_by_rule
        .iter()
        .map(|(id, n)| {
            if *n == 1 {
                id.clone()
            } else {
                format!("{id} ×{n}")
            }
        })
        .collect();
    format!(
        "{} error(s), {} warning(s), {} info: {}.",
        a.summary.error,
        a.summary.warning,
        a.summary.info,
        by.join(", ")
    )
}

/// A Call-ID for a line of text: whole with `verbose`, else shortened in the middle.
fn call_ref(id: &str, verbose: bool) -> String {
    if verbose {
        id.to_string()
    } else {
        shorten_middle(id, 24)
    }
}

/// A Call-ID in a table cell: 16 characters at most unless `verbose`.
fn short_ref(id: &str, verbose: bool) -> String {
    if verbose {
        id.to_string()
    } else {
        shorten_middle(id, 16)
    }
}

/// The verdict lines: failed ones always, healthy ones up to [`HEALTHY_SHOWN`] (all with
/// `verbose`), then the count of the others.
fn verdict_lines(a: &Analysis, verbose: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut healthy_hidden = 0;
    let mut healthy_shown = 0;
    for v in &a.verdicts {
        if v.ok && !verbose && healthy_shown >= HEALTHY_SHOWN {
            healthy_hidden += 1;
            continue;
        }
        if v.ok {
            healthy_shown += 1;
        }
        let rules = if v.rules.is_empty() {
            String::new()
        } else {
            format!(" [{}]", v.rules.join(", "))
        };
        out.push(format!(
            "{} {} (frame {}): {}{rules}",
            if v.ok { "OK    " } else { "FAILED" },
            call_ref(&v.call_ids[0], verbose),
            v.first_frame,
            v.text
        ));
    }
    if healthy_hidden > 0 {
        out.push(format!(
            "…and {healthy_hidden} more healthy call{} (--verbose lists them)",
            if healthy_hidden == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `calls A (frames 1–4), B (…) …and 3 more`.
pub(crate) fn instances(a: &Analysis, g: &FindingGroup, verbose: bool) -> Option<String> {
    let shown = if verbose { usize::MAX } else { INSTANCES_SHOWN };
    let mut names: Vec<String> = Vec::new();
    for &i in g.findings.iter().take(shown) {
        let f = a.finding(i);
        let frames = match (f.frames.first(), f.frames.last()) {
            (Some(x), Some(y)) if x != y => format!("frames {x}–{y}"),
            (Some(x), _) => format!("frame {x}"),
            _ => String::new(),
        };
        let name = match &f.call_id {
            Some(id) => format!("{} ({frames})", call_ref(id, verbose)),
            None => frames,
        };
        names.push(name);
    }
    if g.count <= 1 {
        return None;
    }
    let mut s = format!("{} instances: {}", g.count, names.join(", "));
    if g.count > names.len() {
        let _ = write!(s, " …and {} more", g.count - names.len());
    }
    Some(s)
}

/// Words of `text` in lines of at most `width` characters after `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let room = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// The suggestion block (XccDiversionPattern): the rewrite, its proof on every observed
/// number shown, the candidate value and the caveat.
pub(crate) fn suggestion_text(s: &serde_json::Value, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let Some(p) = s.get("xcc_diversion_pattern").and_then(|v| v.as_str()) else {
        return other_suggestion_text(s, indent, width);
    };
    let rewrites: Vec<String> = s["rewrites"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} → {}",
                r["match"].as_str().unwrap_or(""),
                r["replace"].as_str().unwrap_or("")
            )
        })
        .collect();
    let rewrites = if rewrites.is_empty() {
        vec![format!(
            "{} → {}",
            s["rewrite"]["match"].as_str().unwrap_or(""),
            s["rewrite"]["replace"].as_str().unwrap_or("")
        )]
    } else {
        rewrites
    };
    if rewrites.len() > 1 {
        let _ = writeln!(out, "{indent}Rewrites (the first that matches applies):");
        for r in &rewrites {
            let _ = writeln!(out, "{indent}  {r}");
        }
    } else {
        let _ = writeln!(out, "{indent}Rewrite: {}", rewrites.join(""));
    }
    let _ = writeln!(
        out,
        "{indent}Proof: {} of {} observed numbers understood by XCC after the rewrites:",
        s["understood_count"].as_u64().unwrap_or(0),
        s["observed_count"].as_u64().unwrap_or(0)
    );
    for pr in s["proof"].as_array().into_iter().flatten() {
        let unresolved = pr["unresolved"]
            .as_str()
            .map(|u| format!(": {u}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}  {} → {} ({}){unresolved}",
            pr["observed"].as_str().unwrap_or(""),
            pr["rewritten"].as_str().unwrap_or(""),
            pr["format_after_label"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(out, "{indent}Candidate XccDiversionPattern: {p}");
    out.push_str(&wrap(
        &format!("({})", crate::numbers::pattern::SYNTAX_CAVEAT),
        indent,
        width,
    ));
    out
}

/// A suggestion other than the XccDiversionPattern: the media address to announce, the
/// firewall openings, or its fields as they are.
fn other_suggestion_text(s: &serde_json::Value, indent: &str, width: usize) -> String {
    let mut out = String::new();
    if let (Some(a), Some(b)) = (s["announce"].as_str(), s["instead_of"].as_str()) {
        return wrap(
            &format!("Make the server announce {a} for media instead of {b}."),
            indent,
            width,
        );
    }
    if let Some(open) = s["open"].as_array() {
        for o in open {
            out.push_str(&wrap(
                &format!("Open: {}", o.as_str().unwrap_or("")),
                indent,
                width,
            ));
        }
        return out;
    }
    if let Some(map) = s.as_object() {
        for (k, v) in map {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            out.push_str(&wrap(&format!("{k}: {v}"), indent, width));
        }
    }
    out
}

/// One finding's body: message, quoted proof, suggestion reference, filter.
fn finding_body(a: &Analysis, i: usize, o: &TextOptions, out: &mut String) {
    let f = a.finding(i);
    let indent = "   ";
    out.push_str(&wrap(&f.message, indent, o.width));
    for q in &f.proof {
        let head = format!("{indent}frame {}: ", q.frame);
        let room = o.width.saturating_sub(head.chars().count()).max(20);
        let _ = writeln!(out, "{head}{}", shorten_middle(&q.line, room));
    }
    if let Some(n) = a.findings[i].suggestion {
        let _ = writeln!(out, "{indent}Fix: suggestion {} below", n + 1);
    }
    if !f.wireshark_filter.is_empty() {
        let _ = writeln!(out, "{indent}Wireshark: {}", f.wireshark_filter);
    }
    if a.captures.len() > 1 {
        let file = f.capture.as_deref().unwrap_or("several files");
        let _ = writeln!(out, "{indent}Capture: {file}");
    }
}

/// Terminal report: counts and verdicts, grouped findings with their proof, the shared
/// suggestions, then legs, roles and captures.
pub fn table(a: &Analysis, o: TextOptions) -> String {
    let mut out = String::new();
    out.push_str(&wrap(&headline(a), "", o.width));
    out.push_str(&wrap(&findings_line(a), "", o.width));
    let verdicts = verdict_lines(a, o.verbose);
    if !verdicts.is_empty() {
        out.push('\n');
        for v in verdicts {
            out.push_str(&wrap_lines(&v, o.width));
        }
    }
    if !a.groups.is_empty() {
        out.push_str("\nFindings\n");
    }
    for (n, g) in a.groups.iter().enumerate() {
        let sev = if o.color {
            color_text(&g.severity.to_string(), severity_color(g.severity))
        } else {
            g.severity.to_string()
        };
        let count = if g.count > 1 {
            format!(" ×{}", g.count)
        } else {
            String::new()
        };
        out.push_str(&wrap(
            &format!("{}. [{} {}] {sev}{count}: {}", n + 1, g.id, g.slug, g.title),
            "",
            o.width,
        ));
        if let Some(list) = instances(a, g, o.verbose) {
            out.push_str(&wrap(&list, "   ", o.width));
        }
        let shown: Vec<usize> = if o.verbose {
            g.findings.clone()
        } else {
            g.findings.iter().take(1).copied().collect()
        };
        for (k, &i) in shown.iter().enumerate() {
            if shown.len() > 1 {
                let f = a.finding(i);
                let _ = writeln!(out, "   ({}) {}", k + 1, f.title);
            }
            finding_body(a, i, &o, &mut out);
        }
    }
    for (n, s) in a.suggestions.iter().enumerate() {
        let _ = writeln!(out, "\nSuggestion {}:", n + 1);
        out.push_str(&suggestion_text(s, "   ", o.width));
    }
    out.push('\n');
    let (legs, more) = shown_legs(leg_rows(a, o.verbose), o.verbose);
    if !legs.is_empty() {
        let mut t = super::new_table(&LEG_HEADER);
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(o.width.min(usize::from(u16::MAX)) as u16);
        if !o.color {
            t.force_no_tty();
        }
        for r in legs {
            t.add_row(r.to_vec());
        }
        out.push_str(&format!("Follow-Me legs\n{t}\n"));
        if more > 0 {
            out.push_str(&format!(
                "…and {more} more legs (--verbose or JSON lists them)\n"
            ));
        }
    }
    out.push_str(&wrap_lines(&roles_text(a), o.width));
    out.push_str(&wrap_lines(
        &no_call_id_note(a.calls.iter().map(|c| c.no_call_id.is_some())),
        o.width,
    ));
    out.push_str(&wrap_lines(&captures_footer(&a.captures), o.width));
    out
}

/// `text` in `color` (ANSI, as comfy-table writes it), for the severity word.
fn color_text(text: &str, color: Color) -> String {
    use crossterm::style::Stylize;
    match color {
        Color::Red => text.red().to_string(),
        Color::Yellow => text.yellow().to_string(),
        _ => text.blue().to_string(),
    }
}

/// Each line of `text` wrapped to `width`, continuation lines indented by two spaces.
fn wrap_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    for l in text.lines() {
        let mut line = String::new();
        let mut room = width;
        for word in l.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
                let _ = writeln!(out, "{line}");
                line = "  ".to_string();
                room = width;
            } else if !line.is_empty() && line != "  " {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

pub(crate) const LEG_HEADER: [&str; 8] = [
    "Call-ID",
    "Leg",
    "From",
    "To",
    "Diversion",
    "Frames",
    "Result",
    "Media",
];

/// The Follow-Me legs (first and second), one row each, for every report format. Linked
/// legs follow each other (the verdicts and JSON name the links); Frames shows the INVITE
/// and the final response.
pub(crate) fn leg_rows(a: &Analysis, verbose: bool) -> Vec<[String; 8]> {
    a.calls
        .iter()
        .filter(|c| c.leg != LegKind::Other)
        .map(|c| {
            [
                short_ref(&c.call_id, verbose),
                format!("{:?}", c.leg).to_lowercase(),
                c.from.clone().unwrap_or_default(),
                c.to.clone().unwrap_or_default(),
                if c.forwarding.is_empty() {
                    c.diversion.join(" ")
                } else {
                    chain_text(&c.forwarding)
                },
                match (c.invite_frame, c.final_frame) {
                    (Some(i), Some(f)) => format!("{i} → {f}"),
                    (Some(i), None) => format!("{i} →"),
                    _ => String::new(),
                },
                match c.final_status {
                    Some(s) => s.to_string(),
                    None => "none".into(),
                },
                media_cell(&c.media),
            ]
        })
        .collect()
}

/// Legs listed before the rest are counted (the verdicts already name every failed call).
const LEGS_SHOWN: usize = 20;

/// The leg rows a report lists and how many it leaves out.
pub(crate) fn shown_legs(mut rows: Vec<[String; 8]>, verbose: bool) -> (Vec<[String; 8]>, usize) {
    if verbose || rows.len() <= LEGS_SHOWN {
        return (rows, 0);
    }
    let more = rows.len() - LEGS_SHOWN;
    rows.truncate(LEGS_SHOWN);
    (rows, more)
}

/// `PCMA 201+201, 0 % loss`: codecs, packets per direction, the worst loss.
pub(crate) fn media_cell(m: &[LegMedia]) -> String {
    if m.is_empty() {
        return String::new();
    }
    let mut codecs: Vec<&str> = m.iter().filter_map(|s| s.codec.as_deref()).collect();
    codecs.dedup();
    let packets: Vec<String> = m.iter().map(|s| s.packets.to_string()).collect();
    let loss = m.iter().map(|s| s.loss_percent).fold(0.0, f64::max);
    format!("{} {}, {loss} % loss", codecs.join("/"), packets.join("+"))
}

pub(crate) fn roles_text(a: &Analysis) -> String {
    let mut out = String::new();
    for r in &a.roles.reasons {
        out.push_str(&format!("Roles: {r}\n"));
    }
    for i in &a.site.inferred {
        out.push_str(&format!("Site: {i}\n"));
    }
    out
}

/// Markdown for tickets: the same order as the table, compact enough for a ticket
/// comment (one entry per cause, the suggestion once).
pub fn markdown(a: &Analysis, verbose: bool) -> String {
    let mut out = String::from("## sipdiag report\n\n");
    let _ = writeln!(
        out,
        "{} {}\n\n**{}**\n",
        headline(a),
        a.captures
            .iter()
            .map(|c| format!("`{}`", c.path))
            .collect::<Vec<_>>()
            .join(", "),
        findings_line(a)
    );
    let verdicts = verdict_lines(a, verbose);
    if !verdicts.is_empty() {
        for v in verdicts {
            let _ = writeln!(out, "- {}", v.replace('|', "\\|"));
        }
        out.push('\n');
    }
    for (n, g) in a.groups.iter().enumerate() {
        let count = if g.count > 1 {
            format!(" ×{}", g.count)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "### {}. {} {} ({}){count}: {}\n",
            n + 1,
            g.id,
            g.slug,
            g.severity,
            g.title
        );
        if let Some(list) = instances(a, g, verbose) {
            let _ = writeln!(out, "{list}\n");
        }
        let shown: Vec<usize> = if verbose {
            g.findings.clone()
        } else {
            g.findings.iter().take(1).copied().collect()
        };
        for &i in &shown {
            let f = a.finding(i);
            if shown.len() > 1 {
                let _ = writeln!(out, "**{}**\n", f.title);
            }
            let _ = writeln!(out, "{}\n", f.message);
            if !f.proof.is_empty() {
                out.push_str("```text\n");
                for q in &f.proof {
                    let _ = writeln!(out, "frame {}: {}", q.frame, shorten_middle(&q.line, 160));
                }
                out.push_str("```\n\n");
            }
            if let Some(s) = a.findings[i].suggestion {
                let _ = writeln!(out, "Fix: suggestion {} below.\n", s + 1);
            }
            if !f.wireshark_filter.is_empty() {
                let _ = writeln!(out, "Wireshark filter: `{}`\n", f.wireshark_filter);
            }
            if a.captures.len() > 1 {
                let file = f.capture.as_deref().unwrap_or("several files");
                let _ = writeln!(out, "Capture: `{file}`\n");
            }
        }
    }
    for (n, s) in a.suggestions.iter().enumerate() {
        let _ = writeln!(out, "### Suggestion {}\n\n```text", n + 1);
        out.push_str(&suggestion_text(s, "", 100));
        out.push_str("```\n\n");
    }
    let (legs, more) = shown_legs(leg_rows(a, verbose), verbose);
    if !legs.is_empty() {
        out.push_str("#### Follow-Me legs\n\n| ");
        out.push_str(&LEG_HEADER.join(" | "));
        out.push_str(" |\n|---|---|---|---|---|---|---|---|\n");
        for r in legs {
            let _ = write!(out, "| `{}` |", r[0]);
            for cell in &r[1..] {
                let _ = write!(out, " {} |", cell.replace('|', "\\|"));
            }
            out.push('\n');
        }
        if more > 0 {
            let _ = write!(
                out,
                "\n…and {more} more legs (`--verbose` or JSON lists them).\n"
            );
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
