//! `ipo-route` reports: the IP Office routing replay of each call as a table, markdown
//! or JSON (`schema_version` 1).
//!
//! Input: [`RouteRow`]s (a [`Decision`] with what the capture showed). Output: text.
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

#[derive(Serialize)]
struct Json<'a> {
    schema_version: u32,
    routes: &'a [RouteRow],
}

/// JSON, `schema_version` 1.
pub fn json(rows: &[RouteRow]) -> String {
    serde_json::to_string_pretty(&Json {
        schema_version: 1,
        routes: rows,
    })
    .unwrap_or_default()
        + "\n"
}

/// Tables for the terminal, fitted to `width` columns: per call, the verdict, then its steps.
pub fn table(rows: &[RouteRow], width: usize) -> String {
    let mut out = summary(rows);
    for r in rows {
        out.push_str(&format!("\n{}\n  {}\n", r.title(), r.verdict()));
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
    }
    super::wrap_lines(&out, width)
}

/// Markdown for tickets: per call, the verdict and a step table with the seed sentence.
pub fn markdown(rows: &[RouteRow]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("# IP Office incoming call routing\n\n");
    out.push_str(&summary(rows));
    for r in rows {
        out.push_str(&format!(
            "\n## {}\n\n**{}**\n\n",
            cell(&r.title()),
            r.verdict()
        ));
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
    }
    out
}

/// Counts first: how many calls were routed, busy, ignored, and how many disagree.
fn summary(rows: &[RouteRow]) -> String {
    let n = |o: &str| rows.iter().filter(|r| r.outcome == o).count();
    let mut s = format!(
        "{} call(s) replayed: {} routed, {} busy, {} ignored",
        rows.len(),
        n("routed"),
        n("busy"),
        n("ignored")
    );
    let compared = rows.iter().filter(|r| r.agrees.is_some()).count();
    if compared > 0 {
        let bad = rows.iter().filter(|r| r.agrees == Some(false)).count();
        s.push_str(&format!(
            "; the capture agrees on {} of {compared}",
            compared - bad
        ));
    }
    s.push('\n');
    s
}
