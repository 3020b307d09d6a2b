//! The markdown report (`--format markdown`), for tickets. Input: the [`Analysis`];
//! output: its markdown.

use std::fmt::Write as _;
use std::io;

use super::super::flow::shorten_middle;
use super::Analysis;
use super::text::{
    LEG_HEADER, findings_line, headline, instances, leg_rows, roles_text, shown_legs,
    suggestion_text,
};
use super::verdict_lines::{VerdictSource, render_held, write_verdict_lines};

/// Markdown for tickets: the same order as the table, compact enough for a ticket
/// comment (one entry per cause, the suggestion once).
pub fn markdown(a: &Analysis, verbose: bool) -> String {
    render_held(a, |verdicts, out| write_markdown(a, verbose, verdicts, out))
}

/// [`markdown`], written to `w` with the verdicts of `verdicts`.
pub fn write_markdown(
    a: &Analysis,
    verbose: bool,
    verdicts: &mut VerdictSource<'_>,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mut head = String::from("## sipdiag report\n\n");
    let _ = writeln!(
        head,
        "{} {}\n\n**{}**\n",
        headline(a),
        a.captures
            .iter()
            .map(|c| format!("`{}`", c.path))
            .collect::<Vec<_>>()
            .join(", "),
        findings_line(a)
    );
    w.write_all(head.as_bytes())?;
    let item = |v: &str| format!("- {}\n", v.replace('|', "\\|"));
    write_verdict_lines(verbose, verdicts, &item, ("", "\n"), w)?;
    w.write_all(markdown_rest(a, verbose).as_bytes())
}

/// What [`markdown`] shows after the verdicts.
fn markdown_rest(a: &Analysis, verbose: bool) -> String {
    let mut out = String::new();
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
    let more = more + a.omitted.legs;
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
