//! `ipo-route` reports: the IP Office routing replay of each call as a table, markdown
//! or JSON (`schema_version` 1).
//!
//! Input: [`RouteRow`]s (a [`Decision`] with what the capture showed), in any order,
//! each with its place. Output: text, in capture order ([`RouteSpool`]).
//! Invariant: the JSON keys `schema_version`, `routes[]` and each route's `invite_frame`,
//! `call_id`, `outcome`, `response`, `line`, `uri`, `appearance`, `route`,
//! `destination`, `fallback`, `steps[]` (`step`, `result`, `why`), `observed`, `agrees`
//! are a contract; further keys are added, never renamed.

use serde::Serialize;

use crate::ipoffice::replay::Observed;
use crate::ipoffice::{Decision, Step};

/// One replayed call.
#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    pub invite_frame: Option<u64>,
    pub call_id: Option<String>,
    pub outcome: &'static str,
    pub response: Option<u16>,
    pub line: Option<u32>,
    pub uri: Option<u32>,
    pub appearance: Option<u32>,
    pub route: Option<usize>,
    pub destination: Option<String>,
    pub fallback: Option<String>,
    pub steps: Vec<Step>,
    pub observed: Option<Observed>,
    pub agrees: Option<bool>,
    /// The IP Office local time the time profiles were evaluated at.
    pub local_time: String,
    /// The stage that ended the call without a destination: `line`, `uri`, `route`,
    /// `destination`.
    pub failure: Option<crate::ipoffice::Failure>,
    /// The called number and the caller, as the replay read them.
    pub called: String,
    pub caller: String,
}

impl RouteRow {
    pub fn new(d: Decision, local_time: String, called: String, caller: String) -> RouteRow {
        RouteRow {
            invite_frame: None,
            call_id: None,
            outcome: d.outcome.name(),
            response: d.outcome.response(),
            line: d.line,
            uri: d.uri,
            appearance: d.appearance,
            route: d.route,
            destination: d.destination,
            fallback: d.fallback,
            steps: d.steps,
            observed: None,
            agrees: None,
            local_time,
            failure: d.failure,
            called,
            caller,
        }
    }

    /// One line: what happened to the call.
    pub fn verdict(&self) -> String {
        let mut s = match (self.outcome, self.response) {
            ("ignored", _) => "ignored: no response".to_string(),
            ("busy", Some(r)) => format!("busy: {r} {}", reason(r)),
            _ => format!(
                "routed to {}{}",
                self.destination.as_deref().unwrap_or("?"),
                match &self.fallback {
                    Some(f) => format!(" (fallback {f})"),
                    None => String::new(),
                }
            ),
        };
        let mut via = Vec::new();
        if let Some(l) = self.line {
            via.push(format!("line {l}"));
        }
        if let Some(a) = self.appearance {
            via.push(format!("appearance {a}"));
        }
        if let Some(u) = self.uri {
            via.push(format!("uri {u}"));
        }
        if let Some(r) = self.route {
            via.push(format!("route {r}"));
        }
        if !via.is_empty() {
            s.push_str(&format!(" [{}]", via.join(", ")));
        }
        s
    }

    fn title(&self) -> String {
        match self.invite_frame {
            Some(f) => format!(
                "INVITE frame {f} ({}), {} → {}",
                self.call_id.as_deref().unwrap_or("no Call-ID"),
                self.caller,
                self.called
            ),
            None => format!("Dry run: {} → {}", self.caller, self.called),
        }
    }

    fn observed_line(&self) -> Option<String> {
        let o = self.observed?;
        let seen = match (o.response, o.frame) {
            (Some(r), Some(f)) => format!("{r} {} (frame {f})", reason(r)),
            _ => "no response".to_string(),
        };
        Some(format!(
            "capture: {seen} — {}",
            match self.agrees {
                Some(true) => "agrees with the replay",
                Some(false) => "CONTRADICTS the replay",
                None => "not comparable",
            }
        ))
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        486 => "Busy Here",
        503 => "Service Unavailable",
        _ => "",
    }
}

const MARKDOWN_HEAD: &str = "# IP Office incoming call routing\n\n";

/// Up to the JSON's first route.
const JSON_HEAD: &str = "{\n  \"schema_version\": 1,\n  \"routes\": [";

/// One call's verdict and step table (not yet wrapped).
fn table_row(r: &RouteRow, width: usize) -> String {
    let mut out = format!("\n{}\n  {}\n", r.title(), r.verdict());
    if let Some(o) = r.observed_line() {
        out.push_str(&format!("  {o}\n"));
    }
    let mut t = super::new_table(&["#", "Step", "Compared", "Result", "Why"]);
    super::fit(&mut t, width);
    for (i, s) in r.steps.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            s.step.to_string(),
            s.compared.clone(),
            s.result.to_string(),
            s.why.clone(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    out
}

/// One call's section of the markdown.
fn markdown_row(r: &RouteRow) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("\n## {}\n\n**{}**\n\n", cell(&r.title()), r.verdict());
    if let Some(o) = r.observed_line() {
        out.push_str(&format!("{o}\n\n"));
    }
    out.push_str("| # | Step | Compared | Result | Why | Seed |\n|---|---|---|---|---|---|\n");
    for (i, s) in r.steps.iter().enumerate() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            i + 1,
            s.step,
            cell(&s.compared),
            s.result,
            cell(&s.why),
            cell(s.seed)
        ));
    }
    out
}

/// What the summary counts.
#[derive(Debug, Default)]
struct Counts {
    rows: usize,
    routed: usize,
    busy: usize,
    ignored: usize,
    compared: usize,
    disagree: usize,
}

impl Counts {
    fn add(&mut self, r: &RouteRow) {
        self.rows += 1;
        match r.outcome {
            "routed" => self.routed += 1,
            "busy" => self.busy += 1,
            "ignored" => self.ignored += 1,
            _ => {}
        }
        self.compared += usize::from(r.agrees.is_some());
        self.disagree += usize::from(r.agrees == Some(false));
    }
}

/// Counts first: how many calls were routed, busy, ignored, and how many disagree.
fn summary(c: &Counts) -> String {
    let mut s = format!(
        "{} call(s) replayed: {} routed, {} busy, {} ignored",
        c.rows, c.routed, c.busy, c.ignored
    );
    if c.compared > 0 {
        s.push_str(&format!(
            "; the capture agrees on {} of {}",
            c.compared - c.disagree,
            c.compared
        ));
    }
    s.push('\n');
    s
}

/// The report formats of [`RouteSpool`].
#[derive(Debug, Clone, Copy)]
pub enum RouteFormat {
    Json,
    /// The table, fitted to this many columns.
    Table(usize),
    Markdown,
}

/// The rows of a replay over captures, filed as their calls end (out of capture order)
/// and written in capture order with the counts first: each row rendered when filed and
/// kept in memory up to half a MiB, then in the temporary directory
/// (`report::ordered`), so that memory does not grow with the rows.
pub struct RouteSpool {
    format: RouteFormat,
    rows: super::ordered::Ordered,
    counts: Counts,
    /// Where a JSON element is written before it is kept.
    scratch: Vec<u8>,
}

impl RouteSpool {
    pub fn new(format: RouteFormat) -> RouteSpool {
        RouteSpool {
            format,
            rows: Default::default(),
            counts: Counts::default(),
            scratch: Vec::new(),
        }
    }

    /// Files `row` at `key`, its place in capture order (below `u64::MAX`).
    pub fn push(&mut self, key: u64, row: &RouteRow) -> std::io::Result<()> {
        self.counts.add(row);
        let bytes = match self.format {
            // An element of `routes`, indented to its place.
            RouteFormat::Json => super::spool::json_element_bytes(row, 4, &mut self.scratch)?,
            RouteFormat::Table(width) => {
                super::wrap_lines(&table_row(row, width), width).into_bytes()
            }
            RouteFormat::Markdown => markdown_row(row).into_bytes(),
        };
        self.rows.push(key, bytes)
    }

    /// Writes the report to `out`.
    pub fn write(mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let head = match self.format {
            RouteFormat::Json => JSON_HEAD.to_string(),
            RouteFormat::Table(width) => super::wrap_lines(&summary(&self.counts), width),
            RouteFormat::Markdown => format!("{MARKDOWN_HEAD}{}", summary(&self.counts)),
        };
        out.write_all(head.as_bytes())?;
        let json = matches!(self.format, RouteFormat::Json);
        let mut first = true;
        self.rows.release(u64::MAX, &mut |row| {
            if json {
                out.write_all(if first { b"\n" } else { b",\n" })?;
            }
            first = false;
            out.write_all(row)
        })?;
        if json {
            out.write_all(if first { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
        }
        out.flush()
    }
}
