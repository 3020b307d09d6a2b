//! Stage 6: data → bytes (table, JSON, markdown, HTML with SVG ladders, text ladders). Renderers are pure functions of what they are given; one file
//! per output. Tables use comfy-table (colour only on a terminal and without `NO_COLOR`).

pub mod analysis;
pub mod calls_spool;
pub mod cited;
pub mod each;
pub mod flow;
pub(crate) mod html;
pub mod ipo_route;
pub mod listing;
pub mod media;
pub(crate) mod svg;
pub mod verdict;
pub mod watch;

use comfy_table::{ContentArrangement, Table, presets};

/// A table in sipdiag's house style.
pub(crate) fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// Lets `t` wrap its cells so that its lines fit `width` columns (a single unbreakable
/// token may still overflow).
pub(crate) fn fit(t: &mut Table, width: usize) {
    t.set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX));
}

/// Columns to fit output into: `COLUMNS` when set, else the terminal's width when standard
/// output is one, else 100.
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n >= 20)
    {
        return n;
    }
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        // comfy-table asks the terminal (through crossterm) when output is a terminal.
        if let Some(w) = Table::new().width() {
            return usize::from(w).max(20);
        }
    }
    100
}

/// Each line of `text` that is not part of a drawn table wrapped to `width` columns at
/// spaces, continuation lines indented by two spaces (a longer word stands alone).
pub(crate) fn wrap_lines(text: &str, width: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        let drawn = l.starts_with(['┌', '│', '╞', '├', '└', '╭', '╰']);
        if drawn || l.chars().count() <= width {
            let _ = writeln!(out, "{l}");
            continue;
        }
        let lead: String = l.chars().take_while(|c| *c == ' ').collect();
        let mut line = lead.clone();
        let mut words = 0;
        for word in l.split_whitespace() {
            if words > 0 && line.chars().count() + 1 + word.chars().count() > width {
                let _ = writeln!(out, "{line}");
                line = format!("{lead}  ");
                words = 0;
            }
            if words > 0 {
                line.push(' ');
            }
            line.push_str(word);
            words += 1;
        }
        let _ = writeln!(out, "{line}");
    }
    out
}
