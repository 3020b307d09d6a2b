//! A call ladder as inline SVG, for the HTML report: [`Ladder`] → an `<svg>` element.
//!
//! Input: the ladder `analyze --flow` and `sipdiag flow` draw (hosts as columns labelled
//! with their role, arrows in time order with frame numbers and evidence marks) and one
//! anchor id per arrow. Output: markup, every text from the capture escaped. Pure.
//!
//! Each arrow is a `<g class="msg">` carrying `data-frame`, wrapped in a link to the
//! arrow's message text in the page. Evidence is shown by more than colour (a shaded row,
//! a thick line, a bold label and a mark in the gutter) so that the ladder reads in black
//! and white; requests are solid, responses dashed, as in most sequence diagrams.

use std::fmt::Write as _;

use super::flow::{Ladder, call_tag, shorten_middle};
use super::html::esc;

/// Left gutter: frame number, time and call tag.
const GUTTER: usize = 128;
/// Width of one host's column.
const COLUMN: usize = 200;
/// Height of one arrow's row.
const ROW: usize = 30;
/// Space for the host boxes above the first arrow.
const TOP: usize = 64;
/// Average width of a 12 px label character, to shorten labels that would overflow.
const CHAR_PX: usize = 7;

fn centre(i: usize) -> usize {
    GUTTER + COLUMN * i + COLUMN / 2
}

/// The ladder `l` as an `<svg>`; `n` (1-based) makes the markers' ids unique in the page,
/// `ids[k]` is the page anchor of arrow `k`'s message text.
pub(crate) fn ladder_svg(l: &Ladder, n: usize, ids: &[String]) -> String {
    let hosts = l.hosts.len().max(1);
    let width = GUTTER + COLUMN * hosts + 16;
    let height = TOP + ROW * l.arrows.len() + 24;
    let mut s = String::with_capacity(512 + 400 * l.arrows.len());
    let _ = writeln!(
        s,
        r#"<svg class="ladder-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="ladder-{n}-title">"#
    );
    let _ = writeln!(
        s,
        r#"<title id="ladder-{n}-title">Call flow {n}: {} messages between {} hosts</title>"#,
        l.arrows.len(),
        l.hosts.len()
    );
    // Two arrowheads: plain and evidence (markers do not follow the line's colour).
    let _ = writeln!(
        s,
        r#"<defs><marker id="ah-{n}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head"/></marker><marker id="ahe-{n}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head-evidence"/></marker></defs>"#
    );
    // Gutter headings and host boxes with their lifelines.
    let _ = writeln!(
        s,
        r#"<text class="gutter-head" x="44" y="{y}" text-anchor="end">frame</text><text class="gutter-head" x="104" y="{y}" text-anchor="end">time (s)</text>"#,
        y = TOP - 8
    );
    for (i, h) in l.hosts.iter().enumerate() {
        let cx = centre(i);
        let _ = writeln!(
            s,
            r#"<g class="host"><rect x="{x}" y="6" width="{w}" height="40" rx="4"/><text x="{cx}" y="22" text-anchor="middle" class="role">{role}</text><text x="{cx}" y="38" text-anchor="middle" class="addr">{addr}</text><line class="lifeline" x1="{cx}" y1="46" x2="{cx}" y2="{y2}"/></g>"#,
            x = cx - (COLUMN - 24) / 2,
            w = COLUMN - 24,
            role = esc(h.role.unwrap_or("host")),
            addr = esc(&h.addr.to_string()),
            y2 = height - 8
        );
    }
    for (k, a) in l.arrows.iter().enumerate() {
        let y = TOP + ROW * k + 18;
        let id = ids.get(k).map_or("", String::as_str);
        let class = if a.evidence { "msg evidence" } else { "msg" };
        let kind = if a.is_request { "request" } else { "response" };
        let _ = write!(
            s,
            r##"<a href="#{id}"><g class="{class} {kind}" data-frame="{frame}" data-call="{tag}"><title>frame {frame}: {label}</title>"##,
            id = esc(id),
            frame = a.frame,
            tag = call_tag(a.call),
            label = esc(&a.label),
        );
        if a.evidence {
            let _ = write!(
                s,
                r#"<rect class="band" x="2" y="{}" width="{}" height="{}"/>"#,
                y - ROW + 8,
                width - 4,
                ROW - 2
            );
        }
        let _ = write!(
            s,
            r#"<text class="frame" x="44" y="{y}" text-anchor="end">{mark}{frame}</text><text class="time" x="104" y="{y}" text-anchor="end">{secs:.3}</text><text class="tag" x="112" y="{y}">{tag}</text>"#,
            mark = if a.evidence { "▶ " } else { "" },
            frame = a.frame,
            secs = a.secs,
            tag = call_tag(a.call),
        );
        let marker = if a.evidence { "ahe" } else { "ah" };
        let (x1, x2) = (centre(a.from), centre(a.to));
        if x1 == x2 {
            // To another port of the same address: a loop beside the lifeline.
            let _ = write!(
                s,
                r#"<path class="line" d="M{x1},{} h28 v10 h-26" fill="none" marker-end="url(#{marker}-{n})"/><text class="label" x="{}" y="{}">{}</text>"#,
                y - 8,
                x1 + 34,
                y - 2,
                esc(&shorten_middle(&a.label, (COLUMN - 40) / CHAR_PX)),
            );
        } else {
            let room = x1.abs_diff(x2).saturating_sub(16) / CHAR_PX;
            let _ = write!(
                s,
                r#"<line class="line" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" marker-end="url(#{marker}-{n})"/><text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                (x1 + x2) / 2,
                y - 6,
                esc(&shorten_middle(&a.label, room.max(6))),
            );
        }
        s.push_str("</g></a>\n");
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::flow::{Arrow, Host, LadderCall};

    fn ladder(label: &str) -> Ladder {
        let arrow = |frame, from, to, label: &str, evidence| Arrow {
            frame,
            secs: 0.5,
            from,
            to,
            label: label.into(),
            call: 0,
            evidence,
            is_request: frame == 1,
        };
        Ladder {
            hosts: vec![
                Host {
                    addr: "127.0.0.10".parse().unwrap(),
                    role: Some("PBX"),
                },
                Host {
                    addr: "127.0.0.20".parse().unwrap(),
                    role: Some("XCC"),
                },
            ],
            calls: vec![LadderCall {
                call_id: "x".into(),
                leg: "first leg",
                capture: None,
            }],
            arrows: vec![
                arrow(1, 0, 1, "INVITE 799", false),
                arrow(2, 1, 0, label, true),
                arrow(3, 1, 1, "OPTIONS", false),
            ],
        }
    }

    #[test]
    fn one_group_per_arrow_with_its_frame_and_link() {
        let ids = vec!["l1-f1".into(), "l1-f2".into(), "l1-f3".into()];
        let svg = ladder_svg(&ladder("404 Not Found"), 1, &ids);
        assert_eq!(svg.matches("<g class=\"msg").count(), 3, "{svg}");
        assert_eq!(svg.matches("<g class=\"msg evidence").count(), 1);
        assert!(
            svg.contains(r##"<a href="#l1-f2"><g class="msg evidence response" data-frame="2""##)
        );
        assert!(svg.contains(">PBX</text>") && svg.contains(">127.0.0.20</text>"));
        assert!(svg.contains("marker-end=\"url(#ahe-1)\""));
    }

    #[test]
    fn capture_text_is_escaped() {
        let svg = ladder_svg(&ladder("500 <script>alert(1)</script>"), 1, &[]);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
