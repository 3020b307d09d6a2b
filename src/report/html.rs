//! `analyze --format html`: the report as one self-contained HTML page.
//!
//! Input: the [`Analysis`] every format renders, its verdicts held or read back from a
//! spool as the page is written ([`VerdictSource`]), plus the ladder of each failed call
//! ([`HtmlLadder`]: the ladder `analyze --flow` draws and the full SIP text of its
//! messages). Output: one page with its CSS, SVG and a few lines of script inline: no
//! external asset, font or network, readable with scripts off and printable on A4.
//!
//! The page holds the same information as the table report, in the same order (verdict
//! first, then findings grouped by cause with their quoted proof, suggestion and Wireshark
//! filter, then legs and media), and adds the ladders. It is stable: ids come from ladder
//! numbers and frame numbers, and nothing of the run (no clock) is written, so a snapshot
//! can pin it. Every text from the capture goes through [`esc`].

use std::fmt::Write as _;
use std::io;

use super::analysis::{self, Analysis, CallSummary, VerdictLines, VerdictSource, held_verdicts};
use super::flow::{Ladder, call_tag};
use super::ordered::Ordered;
use super::verdict::Verdict;

/// A ladder with the full text of its messages.
#[derive(Debug, Clone, Default)]
pub struct HtmlLadder {
    pub ladder: Ladder,
    /// The message of each arrow as captured (same order as the arrows), `None` where it
    /// could not be read again.
    pub texts: Vec<Option<String>>,
    /// Why some texts are missing (e.g. the capture came from standard input).
    pub note: Option<String>,
    /// Messages of these calls left out of the drawing (a ladder is kept to a readable
    /// and bounded size).
    pub omitted: usize,
}

/// The ladders of the page.
#[derive(Debug, Clone, Default)]
pub struct HtmlLadders {
    pub ladders: Vec<HtmlLadder>,
    /// Failed calls found; more than `ladders.len()` when some were left out.
    pub failed: usize,
}

/// `s` safe as HTML (and SVG) text and attribute values: `&`, `<`, `>`, `"` and `'`
/// as character references, so that nothing from a capture becomes markup.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = include_str!("html.css");
const SCRIPT: &str = include_str!("html.js");

/// The page anchor of each arrow of ladder `n` (1-based): `l{n}-f{frame}`, with `-2`, `-3`
/// … for further messages in the same frame.
fn arrow_ids(l: &Ladder, n: usize) -> Vec<String> {
    let mut seen: foldhash::HashMap<u64, usize> = foldhash::HashMap::default();
    l.arrows
        .iter()
        .map(|a| {
            let k = seen.entry(a.frame).or_insert(0);
            *k += 1;
            if *k == 1 {
                format!("l{n}-f{}", a.frame)
            } else {
                format!("l{n}-f{}-{k}", a.frame)
            }
        })
        .collect()
}

/// The whole page of an analysis holding its verdicts. `verbose` lists every finding of
/// each group and every healthy call, as for the table.
pub fn html(a: &Analysis, ladders: &HtmlLadders, verbose: bool) -> String {
    let failed = a.verdicts.iter().any(|v| !v.ok && !v.unsure);
    let mut out = Vec::new();
    write_html(
        a,
        &mut held_verdicts(a),
        failed,
        None,
        ladders,
        verbose,
        &mut out,
    )
    .expect("written to memory");
    String::from_utf8(out).expect("the page is UTF-8")
}

/// Writes the page of `a` with the verdicts of `verdicts` (held, or read back from a
/// spool as they are written), `failed` telling whether any of them failed; the rows of
/// every media stream from `streams` when given (a verbose page of a streamed analysis),
/// else those `a` holds.
pub(crate) fn write_html(
    a: &Analysis,
    verdicts: &mut VerdictSource<'_>,
    failed: bool,
    streams: Option<Ordered>,
    ladders: &HtmlLadders,
    verbose: bool,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mut out = String::with_capacity(64 * 1024);
    let files: Vec<&str> = a.captures.iter().map(|c| c.path.as_str()).collect();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"sipdiag {}\">\n<title>sipdiag report: {}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n",
        a.tool.version,
        esc(&files.join(", "))
    );
    // Frames of the ladders, for links from the proof (one capture: numbers are unique).
    let mut anchors: foldhash::HashMap<u64, String> = foldhash::HashMap::default();
    let ids: Vec<Vec<String>> = ladders
        .ladders
        .iter()
        .enumerate()
        .map(|(i, l)| arrow_ids(&l.ladder, i + 1))
        .collect();
    if a.captures.len() == 1 {
        for (l, ids) in ladders.ladders.iter().zip(&ids) {
            for (arrow, id) in l.ladder.arrows.iter().zip(ids) {
                anchors.entry(arrow.frame).or_insert_with(|| id.clone());
            }
        }
    }
    header(a, failed, &files, &mut out);
    w.write_all(out.as_bytes())?;
    out.clear();
    write_verdicts(verdicts, verbose, w)?;
    findings(a, verbose, &anchors, &mut out);
    suggestions(a, &mut out);
    ladder_section(ladders, &ids, &mut out);
    legs(a, verbose, &mut out);
    match streams {
        // Every stream, in report order, read back as it is written.
        Some(mut rows) if rows.len() > 0 => {
            w.write_all(out.as_bytes())?;
            out.clear();
            w.write_all(MEDIA_HEAD.as_bytes())?;
            rows.release(u64::MAX, &mut |row| w.write_all(row))?;
            w.write_all(MEDIA_END.as_bytes())?;
        }
        Some(_) => {}
        None => media(a, verbose, &mut out),
    }
    footer(a, &mut out);
    let _ = write!(out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    w.write_all(out.as_bytes())
}

fn header(a: &Analysis, failed: bool, files: &[&str], out: &mut String) {
    let (class, word) = if failed || a.summary.error > 0 {
        ("verdict failed", "FAILED")
    } else if a.summary.warning > 0 {
        ("verdict warning", "WARNINGS")
    } else {
        ("verdict ok", "OK")
    };
    let _ = write!(
        out,
        "<header class=\"{class}\">\n<p class=\"brand\">sipdiag report</p>\n\
         <h1><span class=\"word\">{word}</span> {}</h1>\n<p class=\"findings-line\">{}</p>\n\
         <p class=\"files\">",
        esc(&analysis::headline(a)),
        esc(&analysis::findings_line(a)),
    );
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "<code>{}</code>", esc(f));
    }
    out.push_str("</p>\n</header>\n<main>\n");
}

/// The verdicts section: a line for each verdict the [`VerdictLines`] admit, then the
/// count of the others; nothing without a verdict.
fn write_verdicts(
    verdicts: &mut VerdictSource<'_>,
    verbose: bool,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mut lines = VerdictLines::new(verbose);
    let mut any = false;
    let mut put = |item: &str, w: &mut dyn io::Write| -> io::Result<()> {
        if !any {
            w.write_all(
                b"<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n",
            )?;
            any = true;
        }
        w.write_all(item.as_bytes())
    };
    verdicts(&mut lines, &mut |v| put(&verdict_item(v), &mut *w))?;
    for t in lines.tail() {
        put(&format!("<li class=\"more\">{t}</li>\n"), &mut *w)?;
    }
    if any {
        w.write_all(b"</ul>\n</section>\n")?;
    }
    Ok(())
}

/// The list item of one verdict.
fn verdict_item(v: &Verdict) -> String {
    let rules: Vec<String> = v
        .rules
        .iter()
        .map(|r| format!("<span class=\"rule\">{}</span>", esc(r)))
        .collect();
    format!(
        "<li class=\"{}\"><span class=\"badge\">{}</span> <code class=\"callid\">{}</code> \
         (frame {}): {} {}</li>\n",
        match (v.ok, v.unsure) {
            (true, _) => "ok",
            (false, true) => "unsure",
            (false, false) => "failed",
        },
        analysis::verdict_label(v).trim_end(),
        esc(&v.call_ids[0]),
        v.first_frame,
        esc(&v.text),
        rules.join(" ")
    )
}

fn findings(
    a: &Analysis,
    verbose: bool,
    anchors: &foldhash::HashMap<u64, String>,
    out: &mut String,
) {
    if a.groups.is_empty() {
        return;
    }
    out.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    for (n, g) in a.groups.iter().enumerate() {
        let sev = g.severity.to_string();
        let count = if g.count > 1 {
            format!(" <span class=\"count\">×{}</span>", g.count)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<article class=\"finding sev-{sev}\" id=\"finding-{}\">\n<h3><span class=\"sev\">{sev}</span> \
             <span class=\"rule\">{}</span> <span class=\"slug\">{}</span>{count} {}</h3>",
            n + 1,
            esc(g.id),
            esc(g.slug),
            esc(&g.title)
        );
        if let Some(list) = analysis::instances(a, g, verbose) {
            let _ = writeln!(out, "<p class=\"instances\">{}</p>", esc(&list));
        }
        let shown: Vec<usize> = if verbose {
            g.findings.clone()
        } else {
            g.findings.iter().take(1).copied().collect()
        };
        for (k, &i) in shown.iter().enumerate() {
            let f = a.finding(i);
            if shown.len() > 1 {
                let _ = writeln!(out, "<h4>({}) {}</h4>", k + 1, esc(&f.title));
            }
            let _ = writeln!(out, "<p class=\"message\">{}</p>", esc(&f.message));
            if !f.proof.is_empty() {
                out.push_str("<div class=\"proof\">\n");
                for q in &f.proof {
                    let frame = match anchors.get(&q.frame) {
                        Some(id) => format!("<a href=\"#{}\">frame {}</a>", esc(id), q.frame),
                        None => format!("frame {}", q.frame),
                    };
                    let _ = writeln!(out, "<div>{frame}: <code>{}</code></div>", esc(&q.line));
                }
                out.push_str("</div>\n");
            }
            if let Some(s) = a.findings[i].suggestion {
                let _ = writeln!(
                    out,
                    "<p class=\"fix\">Fix: <a href=\"#suggestion-{0}\">suggestion {0}</a> below.</p>",
                    s + 1
                );
            }
            if !f.wireshark_filter.is_empty() {
                let id = format!("filter-{}-{}", n + 1, k + 1);
                let _ = writeln!(
                    out,
                    "<div class=\"filter\"><span class=\"filter-label\">Wireshark filter</span> \
                     <code id=\"{id}\">{}</code> <button type=\"button\" class=\"copy\" \
                     data-copy=\"{id}\" hidden>Copy</button></div>",
                    esc(&f.wireshark_filter)
                );
            }
            if a.captures.len() > 1 {
                let file = f.capture.as_deref().unwrap_or("several files");
                let _ = writeln!(
                    out,
                    "<p class=\"capture\">Capture: <code>{}</code></p>",
                    esc(file)
                );
            }
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
}

fn suggestions(a: &Analysis, out: &mut String) {
    if a.suggestions.is_empty() {
        return;
    }
    out.push_str("<section id=\"suggestions\">\n<h2>Suggestions</h2>\n");
    for (n, s) in a.suggestions.iter().enumerate() {
        let _ = writeln!(
            out,
            "<article class=\"suggestion\" id=\"suggestion-{0}\">\n<h3>Suggestion {0}</h3>\n<pre>{1}</pre>\n</article>",
            n + 1,
            esc(&analysis::suggestion_text(s, "", 100))
        );
    }
    out.push_str("</section>\n");
}

fn ladder_section(ladders: &HtmlLadders, ids: &[Vec<String>], out: &mut String) {
    if ladders.ladders.is_empty() {
        return;
    }
    let total = ladders.failed.max(ladders.ladders.len());
    out.push_str("<section id=\"ladders\">\n<h2>Call flows of the failed calls</h2>\n");
    out.push_str(
        "<p class=\"hint\">One column per host; frame numbers as in Wireshark, time in seconds \
         since the first message shown. <span class=\"evidence-key\">▶ Highlighted</span> \
         messages are cited by a finding. Requests are solid arrows, responses dashed. \
         Select a message to read it in full.</p>\n",
    );
    for (i, (l, ids)) in ladders.ladders.iter().zip(ids).enumerate() {
        let n = i + 1;
        let _ = writeln!(
            out,
            "<figure class=\"ladder\" id=\"ladder-{n}\">\n<figcaption><strong>Call flow {n} of {total}</strong>"
        );
        out.push_str("<ul class=\"legend\">");
        for (c, call) in l.ladder.calls.iter().enumerate() {
            let _ = write!(
                out,
                "<li><span class=\"tag\">{}</span> Call-ID <code>{}</code>{}{}</li>",
                call_tag(c),
                esc(&call.call_id),
                if call.leg.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", call.leg)
                },
                call.capture
                    .as_deref()
                    .map(|f| format!(" in <code>{}</code>", esc(f)))
                    .unwrap_or_default()
            );
        }
        out.push_str("</ul></figcaption>\n<div class=\"svg-wrap\">\n");
        out.push_str(&super::svg::ladder_svg(&l.ladder, n, ids));
        out.push_str("</div>\n");
        if l.omitted > 0 {
            let _ = writeln!(
                out,
                "<p class=\"note\">…and {} more messages of these calls: <code>sipdiag flow --call-id ID</code> draws them all.</p>",
                l.omitted
            );
        }
        if let Some(note) = &l.note {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(note));
        }
        out.push_str("<div class=\"messages\">\n");
        for (k, (arrow, id)) in l.ladder.arrows.iter().zip(ids).enumerate() {
            let (from, to) = (&l.ladder.hosts[arrow.from], &l.ladder.hosts[arrow.to]);
            let side = |h: &super::flow::Host| match h.role {
                Some(r) => format!("{r} {}", h.addr),
                None => h.addr.to_string(),
            };
            let _ = write!(
                out,
                "<details id=\"{}\" class=\"{}\"><summary>frame {} · {} · {} → {} · {}</summary>",
                esc(id),
                if arrow.evidence {
                    "sip evidence"
                } else {
                    "sip"
                },
                arrow.frame,
                call_tag(arrow.call),
                esc(&side(from)),
                esc(&side(to)),
                esc(&arrow.label)
            );
            match l.texts.get(k).and_then(Option::as_deref) {
                Some(t) => {
                    let _ = write!(out, "<pre>{}</pre>", esc(t));
                }
                None => out.push_str("<p class=\"note\">Full text not available.</p>"),
            }
            out.push_str("</details>\n");
        }
        out.push_str("</div>\n</figure>\n");
    }
    if total > ladders.ladders.len() {
        let _ = writeln!(
            out,
            "<p class=\"note\">…and {} more failed calls: <code>sipdiag flow --call-id ID</code> draws any of them.</p>",
            total - ladders.ladders.len()
        );
    }
    out.push_str("</section>\n");
}

/// Media streams listed before the rest are counted.
pub(crate) const STREAMS_SHOWN: usize = 40;

fn legs(a: &Analysis, verbose: bool, out: &mut String) {
    let (rows, more) = analysis::shown_legs(analysis::leg_rows(a, true), verbose);
    let more = more + a.omitted.legs;
    if !rows.is_empty() {
        out.push_str("<section id=\"legs\">\n<h2>Follow-Me legs</h2>\n<table>\n<thead><tr>");
        for h in analysis::LEG_HEADER {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in rows {
            out.push_str("<tr>");
            for (i, cell) in r.iter().enumerate() {
                if i == 0 {
                    let _ = write!(out, "<td><code class=\"callid\">{}</code></td>", esc(cell));
                } else {
                    let _ = write!(out, "<td>{}</td>", esc(cell));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        if more > 0 {
            let _ = writeln!(
                out,
                "<p class=\"note\">…and {more} more legs (--verbose or JSON lists them)</p>"
            );
        }
        out.push_str("</section>\n");
    }
}

/// The head of the media section's table, and its end.
const MEDIA_HEAD: &str = "<section id=\"media\">\n<h2>Media per leg</h2>\n<table>\n<thead><tr><th>Call-ID</th>\
     <th>Leg</th><th>From</th><th>To</th><th>Codec</th><th>Packets</th><th>Lost</th>\
     <th>Jitter</th><th>First frame</th></tr></thead>\n<tbody>\n";
const MEDIA_END: &str = "</tbody>\n</table>\n</section>\n";

/// The media section of the streams `a` holds: the first [`STREAMS_SHOWN`] (every one
/// when `verbose`), the rest counted.
fn media(a: &Analysis, verbose: bool, out: &mut String) {
    let (calls, total) = match &a.streams {
        Some(s) => (&s.calls[..], s.total),
        None => (&a.calls[..], a.calls.iter().map(|c| c.media.len()).sum()),
    };
    if total == 0 {
        return;
    }
    out.push_str(MEDIA_HEAD);
    let limit = if verbose { usize::MAX } else { STREAMS_SHOWN };
    let mut shown = 0;
    for c in calls {
        if shown == limit {
            break;
        }
        let n = c.media.len().min(limit - shown);
        stream_rows(c, n, out);
        shown += n;
    }
    out.push_str("</tbody>\n</table>\n");
    if total > limit {
        let _ = writeln!(
            out,
            "<p class=\"note\">…and {} more streams (--verbose or JSON lists them)</p>",
            total - limit
        );
    }
    out.push_str("</section>\n");
}

/// The table rows of the first `n` media streams of call `c`.
pub(crate) fn stream_rows(c: &CallSummary, n: usize, out: &mut String) {
    for m in c.media.iter().take(n) {
        let _ = writeln!(
            out,
            "<tr><td><code class=\"callid\">{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{} ({} %)</td><td>{:.1} ms</td><td>{}</td></tr>",
            esc(&c.call_id),
            format!("{:?}", c.leg).to_lowercase(),
            esc(&m.src),
            esc(&m.dst),
            esc(m.codec.as_deref().unwrap_or("")),
            m.packets,
            m.lost,
            m.loss_percent,
            m.jitter_ms,
            m.first_frame
        );
    }
}

fn footer(a: &Analysis, out: &mut String) {
    out.push_str("</main>\n<footer>\n");
    let notes = analysis::roles_text(a)
        + &super::call_listing::no_call_id_note(
            (a.calls.iter().map(|c| c.no_call_id.is_some()))
                .chain(std::iter::repeat_n(true, a.omitted.no_call_id)),
        )
        + &super::listing::captures_footer(&a.captures);
    for line in notes.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(out, "<p>{}</p>", esc(line));
    }
    let _ = writeln!(
        out,
        "<p class=\"tool\">Written by {} {}. Frame numbers are Wireshark's.</p>\n</footer>",
        a.tool.name, a.tool.version
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_leaves_no_markup() {
        assert_eq!(
            esc(r#"<script>alert("x's")</script> & co"#),
            "&lt;script&gt;alert(&quot;x&#39;s&quot;)&lt;/script&gt; &amp; co"
        );
        assert_eq!(esc("INVITE 799"), "INVITE 799");
    }

    #[test]
    fn arrow_ids_are_unique_and_follow_frames() {
        use crate::report::flow::Arrow;
        let arrow = |frame| Arrow {
            frame,
            secs: 0.0,
            from: 0,
            to: 0,
            label: String::new(),
            call: 0,
            evidence: false,
            is_request: true,
        };
        let l = Ladder {
            arrows: vec![arrow(4), arrow(7), arrow(7), arrow(9)],
            ..Ladder::default()
        };
        assert_eq!(arrow_ids(&l, 2), ["l2-f4", "l2-f7", "l2-f7-2", "l2-f9"]);
    }
}
