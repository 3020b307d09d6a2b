//! The text renderings of an [`Analysis`] shared by the formats, and the terminal
//! table (`--format table`). Input: the [`Analysis`]; output: its text.

use std::fmt::Write as _;
use std::io;

use comfy_table::Color;

use crate::calls::chain_text;
use crate::calls::legs::LegKind;
use crate::rules::Severity;

use super::super::call_listing::no_call_id_note;
use super::super::flow::shorten_middle;
use super::super::listing::captures_footer;
use super::super::verdict::{FindingGroup, LegMedia};
use super::Analysis;
use super::verdict_lines::{VerdictSource, render_held, write_verdict_lines};

pub(super) fn severity_color(s: Severity) -> Color {
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
pub(crate) const INSTANCES_SHOWN: usize = 3;

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
    let by = counts_by_rule(
        a.summary
            .counts
            .findings_by_rule
            .iter()
            .map(|(id, n)| (id.as_str(), *n as u64)),
    );
    format!(
        "{} error(s), {} warning(s), {} info: {}.",
        a.summary.error, a.summary.warning, a.summary.info, by
    )
}

/// `FM002 ×44, FM004`: rules with their counts, a count of one left out.
pub(crate) fn counts_by_rule<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> String {
    counts
        .into_iter()
        .map(|(id, n)| {
            if n == 1 {
                id.to_string()
            } else {
                format!("{id} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Call-ID for a line of text: whole with `verbose`, else shortened in the middle.
pub(super) fn call_ref(id: &str, verbose: bool) -> String {
    if verbose {
        id.to_string()
    } else {
        shorten_middle(id, 24)
    }
}

/// A Call-ID in a table cell: 16 characters at most unless `verbose`.
pub(super) fn short_ref(id: &str, verbose: bool) -> String {
    if verbose {
        id.to_string()
    } else {
        shorten_middle(id, 16)
    }
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

/// The words of `text` as lines are broken between them: split at whitespace, a percent
/// sign kept with the number before it ("0 % loss" is not broken after the 0).
fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim_start();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        while rest[end..].starts_with(" %") {
            end += 2 + rest[end + 2..]
                .find(char::is_whitespace)
                .unwrap_or(rest.len() - end - 2);
        }
        let word = &rest[..end];
        rest = rest[end..].trim_start();
        Some(word)
    })
}

/// Words of `text` in lines of at most `width` characters after `indent`.
pub(super) fn wrap(text: &str, indent: &str, width: usize) -> String {
    hang(text, indent, indent, width)
}

/// `text` wrapped to `width`: the first line indented by `first`, the others by `rest`
/// (a numbered title continues under its text, not under its number).
pub(super) fn hang(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut indent = first;
    for word in words(text) {
        let room = width.saturating_sub(indent.chars().count()).max(20);
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
            indent = rest;
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
pub(super) fn other_suggestion_text(s: &serde_json::Value, indent: &str, width: usize) -> String {
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
pub(super) fn finding_body(a: &Analysis, i: usize, o: &TextOptions, out: &mut String) {
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

/// The findings, grouped (numbered, worst first), each group's first finding with its
/// proof (every one with `verbose`), then the suggestions they share.
pub(crate) fn findings_section(a: &Analysis, o: &TextOptions, out: &mut String) {
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
        // Continuation lines start under the title's first word, past "1. ".
        let number = format!("{}. ", n + 1);
        out.push_str(&hang(
            &format!("{number}[{} {}] {sev}{count}: {}", g.id, g.slug, g.title),
            "",
            &" ".repeat(number.len()),
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
            finding_body(a, i, o, out);
        }
    }
    for (n, s) in a.suggestions.iter().enumerate() {
        let _ = writeln!(out, "\nSuggestion {}:", n + 1);
        out.push_str(&suggestion_text(s, "   ", o.width));
    }
}

/// Terminal report: counts and verdicts, grouped findings with their proof, the shared
/// suggestions, then legs, roles and captures.
pub fn table(a: &Analysis, o: TextOptions) -> String {
    render_held(a, |verdicts, out| write_table(a, o, verdicts, out))
}

/// [`table`], written to `w` with the verdicts of `verdicts`.
pub fn write_table(
    a: &Analysis,
    o: TextOptions,
    verdicts: &mut VerdictSource<'_>,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mut head = wrap(&headline(a), "", o.width);
    head.push_str(&wrap(&findings_line(a), "", o.width));
    w.write_all(head.as_bytes())?;
    let wrapped = |l: &str| wrap_lines(l, o.width);
    write_verdict_lines(o.verbose, verdicts, &wrapped, ("\n", ""), w)?;
    w.write_all(table_rest(a, o).as_bytes())
}

/// What [`table`] shows after the verdicts.
fn table_rest(a: &Analysis, o: TextOptions) -> String {
    let mut out = String::new();
    if !a.groups.is_empty() {
        out.push_str("\nFindings\n");
    }
    findings_section(a, &o, &mut out);
    out.push('\n');
    let (legs, more) = shown_legs(leg_rows(a, o.verbose), o.verbose);
    let more = more + a.omitted.legs;
    if !legs.is_empty() {
        let mut t = crate::report::new_table(&LEG_HEADER);
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
        &no_call_id_note(
            (a.calls.iter().map(|c| c.no_call_id.is_some()))
                .chain(std::iter::repeat_n(true, a.omitted.no_call_id)),
        ),
        o.width,
    ));
    out.push_str(&wrap_lines(&captures_footer(&a.captures), o.width));
    out
}

/// `text` in `color` (ANSI, as comfy-table writes it), for the severity word.
pub(super) fn color_text(text: &str, color: Color) -> String {
    use crossterm::style::Stylize;
    match color {
        Color::Red => text.red().to_string(),
        Color::Yellow => text.yellow().to_string(),
        _ => text.blue().to_string(),
    }
}

/// Each line of `text` wrapped to `width`, continuation lines indented by two spaces.
pub(crate) fn wrap_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    for l in text.lines() {
        let mut line = String::new();
        let mut room = width;
        for word in words(l) {
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
pub(crate) const LEGS_SHOWN: usize = 20;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_sign_stays_with_its_number() {
        let w: Vec<&str> = words(" RTP both ways (PCMU, 0 % loss) and 12.5 %").collect();
        assert_eq!(
            w,
            [
                "RTP", "both", "ways", "(PCMU,", "0 %", "loss)", "and", "12.5 %"
            ]
        );
        // The line is broken before the number rather than after it.
        assert_eq!(wrap_lines("aaaa 0 % loss", 7), "aaaa\n  0 %\n  loss\n");
        let a = "a".repeat(17);
        assert_eq!(
            hang(&format!("{a} 0 % loss"), "", "", 20),
            format!("{a}\n0 % loss\n")
        );
    }
}
