//! `analyze --each`: the document of many independent reports and its summary table.
//!
//! Input: per capture file, its `analyze` report ([`Analysis`]) or the error that kept it
//! from being read, in sorted path order. Output: one report after another with a header
//! naming the file (table, markdown) or one JSON document ([`EachDocument`], its own
//! `schema_version`, the reports inside unchanged), then a summary with one row per file.
//! Renderers are pure: the caller runs the analyses and writes the bytes.

use serde::Serialize;

use super::analysis::Analysis;
use crate::rules::Severity;

/// The version of the `analyze --each` JSON document (each report inside carries its own,
/// the `analyze` one).
pub const EACH_SCHEMA_VERSION: u32 = 1;

/// The whole `analyze --each --format json` output. It is written file by file as the
/// analyses finish (in path order), never held whole; this type describes it for the
/// JSON Schema.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EachDocument {
    pub schema_version: u32,
    /// One entry per capture file, in path order.
    pub files: Vec<EachFile>,
    /// One row per capture file, in the same order.
    pub summary: Vec<EachRow>,
}

/// One capture file: its report, or why it could not be analysed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EachFile {
    pub path: String,
    /// The `analyze` report of this file alone (absent when `error` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Analysis>,
    /// Why the file could not be analysed (absent when `report` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One line of the summary.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EachRow {
    pub path: String,
    /// Calls with an INVITE (`null` when the file could not be analysed).
    pub calls: Option<usize>,
    /// INVITE dialogs with a final failure (300 or more).
    pub failures: Option<usize>,
    /// Findings of any severity.
    pub findings: Option<usize>,
    /// The worst finding (the report's first), when there is one.
    pub worst: Option<WorstFinding>,
    /// Why the file could not be analysed.
    pub error: Option<String>,
    /// This file's exit code alone: 0 clean, 1 findings at or above `--fail-on`, 2 not
    /// analysed. The run exits with the highest.
    pub exit_code: u8,
}

/// The finding a row names.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorstFinding {
    pub id: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub title: String,
}

impl EachRow {
    /// The row of a file that was analysed.
    pub fn analysed(path: &str, a: &Analysis, exit_code: u8) -> Self {
        EachRow {
            path: path.to_string(),
            calls: Some(a.summary.counts.calls),
            failures: Some(a.summary.counts.failed),
            findings: Some(a.findings.len()),
            worst: a.findings.first().map(|f| WorstFinding {
                id: f.finding.id,
                slug: f.finding.slug,
                severity: f.finding.severity,
                title: f.finding.title.clone(),
            }),
            error: None,
            exit_code,
        }
    }

    /// The row of a file that could not be analysed.
    pub fn failed(path: &str, error: String) -> Self {
        EachRow {
            path: path.to_string(),
            calls: None,
            failures: None,
            findings: None,
            worst: None,
            error: Some(error),
            exit_code: 2,
        }
    }

    fn worst_text(&self) -> String {
        match (&self.error, &self.worst) {
            // The reason without the path (the row names it) nor the advice (the
            // file's section and standard error carry the whole message).
            (Some(e), _) => {
                let e = e.strip_prefix(&format!("{}: ", self.path)).unwrap_or(e);
                format!("not analysed: {}", e.split(';').next().unwrap_or(e))
            }
            (None, Some(w)) => format!("{} {} {}", w.severity, w.id, w.title),
            (None, None) => "none".into(),
        }
    }
}

/// The JSON Schema of [`EachDocument`] (checked in as `src/report/each.schema.json`; a
/// test fails when it is stale).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(EachDocument);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The header line of one file's report in the table output (as `head` and `tail` name
/// their files).
pub fn table_header(path: &str) -> String {
    format!("==> {path} <==\n")
}

/// One file's section of the markdown output: its report under a heading naming the
/// file, the report's own headings one level down (code blocks left alone).
pub fn markdown_section(path: &str, report: &str) -> String {
    let mut out = format!("## `{path}`\n\n");
    let mut fenced = false;
    for l in report.lines() {
        if l.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && l.starts_with('#') {
            out.push('#');
        }
        out.push_str(l);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// One file's entry of the JSON `files` array, indented to sit in the document.
pub fn json_entry(f: &EachFile) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(f)?;
    Ok(indent(&text, "    "))
}

fn indent(text: &str, by: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, l) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(by);
        out.push_str(l);
    }
    out
}

/// The start of the JSON document, up to the first `files` entry.
pub fn json_start() -> String {
    format!("{{\n  \"schema_version\": {EACH_SCHEMA_VERSION},\n  \"files\": [\n")
}

/// The end of the JSON document: the `summary` array.
pub fn json_end(rows: &[EachRow]) -> serde_json::Result<String> {
    let summary = indent(&serde_json::to_string_pretty(rows)?, "  ");
    Ok(format!(
        "\n  ],\n  \"summary\": {}\n}}\n",
        summary.trim_start()
    ))
}

/// The summary table: one row per file.
pub fn summary_table(rows: &[EachRow], width: usize) -> String {
    let mut t = super::new_table(&["File", "Calls", "Failures", "Findings", "Worst finding"]);
    super::fit(&mut t, width);
    let n = |v: Option<usize>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    for r in rows {
        t.add_row(vec![
            r.path.clone(),
            n(r.calls),
            n(r.failures),
            n(r.findings),
            r.worst_text(),
        ]);
    }
    format!("Summary: {}\n{t}\n", count_line(rows))
}

/// The summary as a markdown table.
pub fn summary_markdown(rows: &[EachRow]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let n = |v: Option<usize>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let mut out = format!(
        "## Summary\n\n{}\n\n| File | Calls | Failures | Findings | Worst finding |\n|---|---:|---:|---:|---|\n",
        count_line(rows)
    );
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            cell(&r.path),
            n(r.calls),
            n(r.failures),
            n(r.findings),
            cell(&r.worst_text())
        ));
    }
    out
}

/// "3 captures: 1 with findings at or above --fail-on, 1 not analysed".
fn count_line(rows: &[EachRow]) -> String {
    let with = |code| rows.iter().filter(|r| r.exit_code == code).count();
    let plural = if rows.len() == 1 { "" } else { "s" };
    format!(
        "{} capture{plural}: {} clean, {} with findings at or above --fail-on, {} not analysed",
        rows.len(),
        with(0),
        with(1),
        with(2)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pieces_make_one_document() {
        let rows = vec![
            EachRow::failed("a.pcap", "a.pcap: empty file, not a capture".into()),
            EachRow::failed("b.pcap", "b.pcap: cannot open".into()),
        ];
        let files: Vec<String> = rows
            .iter()
            .map(|r| {
                json_entry(&EachFile {
                    path: r.path.clone(),
                    report: None,
                    error: r.error.clone(),
                })
                .unwrap()
            })
            .collect();
        let doc = json_start() + &files.join(",\n") + &json_end(&rows).unwrap();
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["schema_version"], EACH_SCHEMA_VERSION);
        assert_eq!(v["files"][1]["path"], "b.pcap");
        assert_eq!(v["files"][0]["error"], "a.pcap: empty file, not a capture");
        assert_eq!(v["summary"][1]["exit_code"], 2);
        assert!(v["summary"][0]["calls"].is_null());
    }

    #[test]
    fn markdown_report_heading_goes_one_level_down() {
        let s = markdown_section(
            "x.pcap",
            "## sipdiag report\n\nbody\n### 1. FM002\n```text\n# not a heading\n```\n",
        );
        assert_eq!(
            s,
            "## `x.pcap`\n\n### sipdiag report\n\nbody\n#### 1. FM002\n```text\n# not a heading\n```\n\n"
        );
    }
}
