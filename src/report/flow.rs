//! Call ladders (sequence diagrams): [`Ladder`] → text, Markdown or Mermaid.
//!
//! Input: the hosts of the calls shown (one column each, labelled with their role where it
//! is known) and their SIP messages as arrows, in time order, each with its Wireshark frame
//! number, the time since the first arrow and whether a finding cites it. Output: bytes.
//! Pure: the width is given, nothing is read from the terminal here.
//!
//! The text ladder fits the width it is given: columns share the room after the frame and
//! time gutter, labels are shortened in the middle to fit their arrow; when the hosts do
//! not fit side by side, each arrow becomes one line naming its two ends.

use std::fmt::Write as _;
use std::net::IpAddr;

/// One column of the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub addr: IpAddr,
    /// `PBX`, `XCC`, `softphone`, … where the role is known.
    pub role: Option<&'static str>,
}

impl Host {
    fn name(&self) -> String {
        match self.role {
            Some(r) => format!("{r} {}", self.addr),
            None => self.addr.to_string(),
        }
    }
}

/// One SIP message.
#[derive(Debug, Clone)]
pub struct Arrow {
    pub frame: u64,
    /// Seconds since the first arrow of the ladder.
    pub secs: f64,
    /// Indexes into [`Ladder::hosts`].
    pub from: usize,
    pub to: usize,
    /// Method (with the Request-URI user for INVITEs) or status code and reason phrase.
    pub label: String,
    /// Index into [`Ladder::calls`].
    pub call: usize,
    /// A finding cites this frame.
    pub evidence: bool,
    pub is_request: bool,
}

/// A call drawn in the ladder, for the legend.
#[derive(Debug, Clone)]
pub struct LadderCall {
    pub call_id: String,
    /// `first leg`, `second leg` or empty.
    pub leg: &'static str,
    /// The capture file its frame numbers belong to.
    pub capture: Option<String>,
}

/// Everything a ladder shows.
#[derive(Debug, Clone, Default)]
pub struct Ladder {
    pub hosts: Vec<Host>,
    pub calls: Vec<LadderCall>,
    pub arrows: Vec<Arrow>,
}

/// `A`…`Z`, then `AA`, `AB`, …: the short name of call `i` in the gutter and the legend.
pub(crate) fn call_tag(i: usize) -> String {
    let mut n = i;
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// `s` in at most `max` characters, shortened in the middle with `…`.
pub fn shorten_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let head = (max - 1).div_ceil(2);
    let tail = max - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// Narrowest column in which an arrow label stays readable.
const MIN_COLUMN: usize = 14;

impl Ladder {
    fn tag_width(&self) -> usize {
        call_tag(self.calls.len().saturating_sub(1)).len()
    }

    fn gutter(&self, a: &Arrow) -> String {
        format!(
            "{}{:>6} {:>8.3} {:<w$} ",
            if a.evidence { '*' } else { ' ' },
            a.frame,
            a.secs,
            call_tag(a.call),
            w = self.tag_width()
        )
    }

    fn gutter_width(&self) -> usize {
        1 + 6 + 1 + 8 + 1 + self.tag_width() + 1
    }

    /// The text ladder in at most `width` columns (wider only for a legend line that names
    /// an unbreakable Call-ID).
    pub fn text(&self, width: usize) -> String {
        let mut out = String::new();
        if self.arrows.is_empty() {
            out.push_str("No SIP message of the selected calls.\n");
            return out;
        }
        let gutter = self.gutter_width();
        let room = width.saturating_sub(gutter);
        let n = self.hosts.len().max(1);
        if room / n < MIN_COLUMN {
            self.text_lines(width, &mut out);
        } else {
            self.text_columns(gutter, room / n, &mut out);
        }
        self.legend(width, &mut out);
        out
    }

    fn text_columns(&self, gutter: usize, col: usize, out: &mut String) {
        let centre = |i: usize| gutter + col * i + col / 2;
        let line_width = gutter + col * self.hosts.len();
        let blank = || vec![' '; line_width];
        let put_centred = |row: &mut Vec<char>, at: usize, text: &str| {
            let text = shorten_middle(text, col.saturating_sub(1));
            let len = text.chars().count();
            let start = at.saturating_sub(len / 2);
            for (k, ch) in text.chars().enumerate() {
                if let Some(c) = row.get_mut(start + k) {
                    *c = ch;
                }
            }
        };
        // Header: role, then address.
        for part in 0..2 {
            let mut row = blank();
            for (i, h) in self.hosts.iter().enumerate() {
                let text = match part {
                    0 => h.role.unwrap_or("host").to_string(),
                    _ => h.addr.to_string(),
                };
                put_centred(&mut row, centre(i), &text);
            }
            if part == 0 {
                let head = " frame     time ";
                for (k, ch) in head.chars().enumerate() {
                    row[k] = ch;
                }
            }
            push_row(out, &row);
        }
        for a in &self.arrows {
            let mut row = blank();
            for (k, ch) in self.gutter(a).chars().enumerate() {
                row[k] = ch;
            }
            for i in 0..self.hosts.len() {
                row[centre(i)] = '│';
            }
            let (l, r) = (centre(a.from.min(a.to)), centre(a.from.max(a.to)));
            if l == r {
                // To itself (another port of the same address): a note beside the line.
                let text = shorten_middle(&format!("↺ {}", a.label), col.saturating_sub(2));
                for (k, ch) in text.chars().enumerate() {
                    if let Some(c) = row.get_mut(l + 2 + k) {
                        *c = ch;
                    }
                }
            } else {
                let shaft = if a.evidence { '═' } else { '─' };
                for c in &mut row[l + 1..r] {
                    *c = shaft;
                }
                if a.from < a.to {
                    row[r - 1] = '▶';
                } else {
                    row[l + 1] = '◀';
                }
                let space = r - l - 3;
                if space >= 3 {
                    let text = format!(" {} ", shorten_middle(&a.label, space.saturating_sub(2)));
                    let len = text.chars().count();
                    let start = l + 2 + (space - len) / 2;
                    for (k, ch) in text.chars().enumerate() {
                        row[start + k] = ch;
                    }
                }
            }
            push_row(out, &row);
        }
    }

    /// One line per arrow: `frame time call  PBX 10.0.0.1 → XCC 10.0.0.2  INVITE 799`.
    fn text_lines(&self, width: usize, out: &mut String) {
        for a in &self.arrows {
            let mut line = self.gutter(a);
            let ends = format!(
                "{} → {}  ",
                self.hosts[a.from].name(),
                self.hosts[a.to].name()
            );
            let used = line.chars().count() + ends.chars().count();
            line.push_str(&ends);
            line.push_str(&shorten_middle(&a.label, width.saturating_sub(used).max(8)));
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }

    fn legend(&self, width: usize, out: &mut String) {
        out.push('\n');
        for (i, c) in self.calls.iter().enumerate() {
            let mut line = format!("{} = Call-ID {}", call_tag(i), c.call_id);
            if !c.leg.is_empty() {
                let _ = write!(line, " ({})", c.leg);
            }
            if let Some(cap) = &c.capture {
                let _ = write!(line, " in {cap}");
            }
            // The Call-ID itself is never cut; what follows it may wrap.
            push_wrapped(out, &line, width);
        }
        if self.arrows.iter().any(|a| a.evidence) {
            push_wrapped(
                out,
                "* a finding cites this frame (frame numbers as in Wireshark; time in seconds since the first message shown)",
                width,
            );
        } else {
            push_wrapped(
                out,
                "Frame numbers as in Wireshark; time in seconds since the first message shown.",
                width,
            );
        }
    }

    /// The ladder for a ticket: the text ladder in a code block.
    pub fn markdown(&self, width: usize) -> String {
        format!("```text\n{}```\n", self.text(width))
    }

    /// A Mermaid `sequenceDiagram`.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("sequenceDiagram\n");
        for (i, h) in self.hosts.iter().enumerate() {
            let _ = writeln!(out, "    participant H{i} as {}", mermaid_text(&h.name()));
        }
        for a in &self.arrows {
            let _ = writeln!(
                out,
                "    H{}{}H{}: {}{} {} {}",
                a.from,
                if a.is_request { "->>" } else { "-->>" },
                a.to,
                if a.evidence { "⚠ " } else { "" },
                call_tag(a.call),
                a.frame,
                mermaid_text(&a.label)
            );
        }
        for (i, c) in self.calls.iter().enumerate() {
            let leg = if c.leg.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.leg)
            };
            let _ = writeln!(
                out,
                "    %% {} = Call-ID {}{leg}",
                call_tag(i),
                c.call_id.replace(['\n', '\r'], " ")
            );
        }
        out
    }
}

/// Text safe inside a Mermaid message or participant alias: `;` ends a statement and `#`
/// starts an entity code, so both are written as entity codes.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn push_row(out: &mut String, row: &[char]) {
    let line: String = row.iter().collect();
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Words of `text` in lines of at most `width` characters (a longer word stands alone);
/// continuation lines are indented by two spaces.
fn push_wrapped(out: &mut String, text: &str, width: usize) {
    let mut line = String::new();
    let mut len = 0;
    let mut words_on_line = 0;
    for word in text.split(' ') {
        let w = word.chars().count();
        if words_on_line > 0 && len + 1 + w > width {
            out.push_str(&line);
            out.push('\n');
            line = "  ".to_string();
            len = 2;
            words_on_line = 0;
        }
        if words_on_line > 0 {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += w;
        words_on_line += 1;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        let h = |a: &str, role| Host {
            addr: a.parse().unwrap(),
            role,
        };
        let arrow = |frame, secs, from, to, label: &str, evidence, is_request| Arrow {
            frame,
            secs,
            from,
            to,
            label: label.into(),
            call: 0,
            evidence,
            is_request,
        };
        Ladder {
            hosts: vec![h("127.0.0.10", Some("PBX")), h("127.0.0.20", Some("XCC"))],
            calls: vec![LadderCall {
                call_id: "abc@127.0.0.10".into(),
                leg: "first leg",
                capture: None,
            }],
            arrows: vec![
                arrow(4, 0.0, 0, 1, "INVITE 799", true, true),
                arrow(5, 0.002, 1, 0, "100 Trying", false, false),
                arrow(6, 0.045, 1, 0, "503 Service Unavailable", true, false),
            ],
        }
    }

    #[test]
    fn text_ladder_fits_its_width_and_shows_every_arrow() {
        for width in [60, 80, 120] {
            let text = ladder().text(width);
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
            assert!(text.contains("INVITE 799"), "{text}");
            assert!(text.contains("503 Ser"), "{text}");
            assert!(text.contains("*     4"), "{text}");
            assert!(text.contains("A = Call-ID abc@127.0.0.10 (first leg)"));
        }
    }

    #[test]
    fn narrow_widths_fall_back_to_one_line_per_arrow() {
        let text = ladder().text(40);
        assert!(text.contains("PBX 127.0.0.10 → XCC 127.0.0.20"), "{text}");
        assert!(text.contains("XCC 127.0.0.20 → PBX 127.0.0.10"), "{text}");
    }

    #[test]
    fn mermaid_escapes_statement_separators() {
        let mut l = ladder();
        l.arrows[2].label = "503 Busy; try #2".into();
        let m = l.mermaid();
        assert!(m.starts_with("sequenceDiagram\n"));
        assert!(m.contains("participant H0 as PBX 127.0.0.10"));
        assert!(m.contains("H0->>H1: ⚠ A 4 INVITE 799"));
        assert!(m.contains("H1-->>H0: A 5 100 Trying"));
        assert!(m.contains("503 Busy#59; try #35;2"), "{m}");
    }

    #[test]
    fn call_tags_and_shortening() {
        assert_eq!(call_tag(0), "A");
        assert_eq!(call_tag(25), "Z");
        assert_eq!(call_tag(26), "AA");
        assert_eq!(call_tag(27), "AB");
        assert_eq!(shorten_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(shorten_middle("abc", 5), "abc");
    }
}
