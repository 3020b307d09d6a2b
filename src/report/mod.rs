//! Stage 6: data → bytes (table, JSON, markdown, HTML with SVG ladders, text ladders). Renderers are pure functions of what they are given; one file
//! per output. Tables use comfy-table (colour only on a terminal and without `NO_COLOR`).

pub mod analysis;
pub mod analysis_spool;
pub mod call_listing;
pub mod calls_spool;
pub mod cited;
pub mod each;
pub mod flow;
pub(crate) mod html;
pub mod ipo_route;
pub mod listing;
pub mod media;
pub mod media_spool;
pub(crate) mod ordered;
pub(crate) mod spool;
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

/// Tables past this many rows are not drawn (a drawn table needs every row before its
/// first line, and comfy-table holds several copies of each cell) but printed in
/// [`Columns`] sized by the first this many.
pub const TABLE_ROWS: usize = 10_000;

/// Plain columns, as `messages` lists: each column as wide as its widest cell among the
/// rows it was sized by (a wider cell later pushes only its own line), two spaces apart,
/// one line per row (control characters escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    widths: Vec<usize>,
}

/// Characters a cell takes on its line.
fn shown_width(cell: &str) -> usize {
    cell.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().count()
            } else {
                1
            }
        })
        .sum()
}

impl Columns {
    /// Columns sized by `head` and `rows`.
    pub fn sized_by<R: AsRef<[String]>>(head: &[&str], rows: impl IntoIterator<Item = R>) -> Self {
        let mut widths: Vec<usize> = head.iter().map(|h| shown_width(h)).collect();
        for r in rows {
            for (w, cell) in widths.iter_mut().zip(r.as_ref()) {
                *w = (*w).max(shown_width(cell));
            }
        }
        Columns { widths }
    }

    /// One row (or the head) as a line, without its line break.
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let mut line = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            let start = line.len();
            for c in cell.as_ref().chars() {
                if c.is_control() {
                    line.extend(c.escape_default());
                } else {
                    line.push(c);
                }
            }
            if i < last {
                let w = self.widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(line[start..].chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.truncate(line.trim_end().len());
        line
    }
}

/// `rows` under `head`: a table fitted to `width` up to [`TABLE_ROWS`] rows, else plain
/// [`Columns`] sized by the first [`TABLE_ROWS`] (the rest written as they come, not
/// held); ends with a line break.
pub(crate) fn table_or_columns(
    head: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    width: usize,
) -> String {
    let mut rows = rows.into_iter();
    let first: Vec<Vec<String>> = rows.by_ref().take(TABLE_ROWS + 1).collect();
    if first.len() <= TABLE_ROWS {
        let mut t = new_table(head);
        fit(&mut t, width);
        for r in first {
            t.add_row(r);
        }
        return format!("{t}\n");
    }
    let columns = Columns::sized_by(head, &first[..TABLE_ROWS]);
    let mut out = columns.line(head) + "\n";
    for r in first.into_iter().chain(rows) {
        out.push_str(&columns.line(&r));
        out.push('\n');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> impl Iterator<Item = Vec<String>> {
        (0..n).map(|i| vec![format!("row {i}"), "x".repeat(i % 7), "end".into()])
    }

    /// Up to TABLE_ROWS rows a drawn table; past them plain columns sized by the first
    /// TABLE_ROWS, a wider cell later pushing only its own line, control characters
    /// escaped so that each row keeps one line.
    #[test]
    fn long_tables_become_plain_columns() {
        let head = ["Name", "Filler", "Last"];
        let drawn = table_or_columns(&head, rows(TABLE_ROWS), 200);
        assert!(drawn.starts_with('┌'), "{}", &drawn[..200]);
        assert_eq!(drawn.lines().count(), TABLE_ROWS + 4);

        let mut more: Vec<Vec<String>> = rows(TABLE_ROWS + 1).collect();
        more.push(vec!["wide\nrow".into(), "y".repeat(20), "end".into()]);
        let plain = table_or_columns(&head, more, 200);
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(lines.len(), TABLE_ROWS + 3);
        // "row 9999" is the widest name of the first rows, 6 the widest filler.
        assert_eq!(lines[0], "Name      Filler  Last");
        assert_eq!(lines[1], "row 0             end");
        assert_eq!(lines[7], "row 6     xxxxxx  end");
        assert_eq!(
            lines[TABLE_ROWS + 2],
            format!("wide\\nrow  {}  end", "y".repeat(20))
        );
    }
}
