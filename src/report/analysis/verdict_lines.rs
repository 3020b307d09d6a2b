//! The verdict lines of a report, one per call or Follow-Me pair: failed ones always,
//! healthy and unsure ones up to a few, the others counted. Input: the verdicts in report
//! order, held ([`Analysis::verdicts`]) or read back from a spool ([`VerdictSource`]);
//! output: the lines, written as they come.

use std::io;

use super::super::verdict::Verdict;
use super::Analysis;
use super::text::{HEALTHY_SHOWN, call_ref};

/// The label of a verdict line, six characters wide.
pub(crate) fn verdict_label(v: &Verdict) -> &'static str {
    match (v.ok, v.unsure) {
        (true, _) => "OK    ",
        (false, true) => "UNSURE",
        (false, false) => "FAILED",
    }
}

/// The text line of verdict `v` (its Call-ID whole when `verbose`).
fn verdict_line(v: &Verdict, verbose: bool) -> String {
    let rules = if v.rules.is_empty() {
        String::new()
    } else {
        format!(" [{}]", v.rules.join(", "))
    };
    format!(
        "{} {} (frame {}): {}{rules}",
        verdict_label(v),
        call_ref(&v.call_ids[0], verbose),
        v.first_frame,
        v.text
    )
}

/// The verdict lines as the verdicts come, in report order: failed ones always; healthy
/// ones, and unsure ones (media not judged at a table limit), up to `HEALTHY_SHOWN`
/// each (all with `verbose`), then the count of the others (`VerdictLines::tail`).
pub struct VerdictLines {
    verbose: bool,
    /// (shown, hidden) of the healthy verdicts and of the unsure ones.
    healthy: (usize, usize),
    unsure: (usize, usize),
}

impl VerdictLines {
    pub(crate) fn new(verbose: bool) -> Self {
        VerdictLines {
            verbose,
            healthy: (0, 0),
            unsure: (0, 0),
        }
    }

    /// Whether the next verdict, healthy (`ok`) or `unsure` or neither (failed), gets a
    /// line; if not, it is counted.
    pub fn admit(&mut self, ok: bool, unsure: bool) -> bool {
        if !ok && !unsure {
            return true;
        }
        let counts = if ok {
            &mut self.healthy
        } else {
            &mut self.unsure
        };
        if !self.verbose && counts.0 >= HEALTHY_SHOWN {
            counts.1 += 1;
            return false;
        }
        counts.0 += 1;
        true
    }

    /// The line of a verdict admitted.
    pub fn line(&self, v: &Verdict) -> String {
        verdict_line(v, self.verbose)
    }

    /// The lines that count the verdicts not shown.
    pub(crate) fn tail(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (unsure_hidden, healthy_hidden) = (self.unsure.1, self.healthy.1);
        if unsure_hidden > 0 {
            out.push(format!(
                "…and {unsure_hidden} more call{} answered whose media was not judged (a table limit was reached: CAP006; --verbose lists them)",
                if unsure_hidden == 1 { "" } else { "s" }
            ));
        }
        if healthy_hidden > 0 {
            out.push(format!(
                "…and {healthy_hidden} more healthy call{} (--verbose lists them)",
                if healthy_hidden == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

/// Where a report's verdicts come from, in report order: each one is offered to the
/// [`VerdictLines`] and, when admitted, goes to the writer given (which writes its line
/// as text, markdown or HTML). A report holding its verdicts offers
/// [`Analysis::verdicts`] (`held_verdicts`); a streamed one reads them back from its
/// spool, so that they are never all in memory.
pub type VerdictSource<'s> =
    dyn FnMut(&mut VerdictLines, &mut VerdictOut<'_>) -> io::Result<()> + 's;

/// What a [`VerdictSource`] gives each verdict admitted to.
pub type VerdictOut<'o> = dyn FnMut(&Verdict) -> io::Result<()> + 'o;

/// The verdicts of `a`, as a [`VerdictSource`].
pub(crate) fn held_verdicts(
    a: &Analysis,
) -> impl FnMut(&mut VerdictLines, &mut VerdictOut<'_>) -> io::Result<()> + '_ {
    move |lines, out| {
        for v in &a.verdicts {
            if lines.admit(v.ok, v.unsure) {
                out(v)?;
            }
        }
        Ok(())
    }
}

/// The verdict lines of `a` (see [`VerdictLines`]).
pub(crate) fn verdict_lines(a: &Analysis, verbose: bool) -> Vec<String> {
    let mut lines = VerdictLines::new(verbose);
    let mut out = Vec::new();
    let _ = held_verdicts(a)(&mut lines, &mut |v| {
        out.push(verdict_line(v, verbose));
        Ok(())
    });
    out.extend(lines.tail());
    out
}

/// A report of `a` with its own verdicts, as `write` writes it (`write_table`,
/// `write_markdown`), in a string.
pub(crate) fn render_held(
    a: &Analysis,
    write: impl FnOnce(&mut VerdictSource<'_>, &mut Vec<u8>) -> io::Result<()>,
) -> String {
    let mut out = Vec::new();
    write(&mut held_verdicts(a), &mut out).expect("written to memory");
    String::from_utf8(out).expect("a report is UTF-8")
}

/// Writes the verdict lines of `verdicts` to `w`, each through `line` (wrapping, a list
/// mark), a blank line before them (`before`) and after them (`after`) when there is any.
pub(crate) fn write_verdict_lines(
    verbose: bool,
    verdicts: &mut VerdictSource<'_>,
    line: &dyn Fn(&str) -> String,
    (before, after): (&str, &str),
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mut lines = VerdictLines::new(verbose);
    let mut any = false;
    let mut put = |l: String, w: &mut dyn io::Write| -> io::Result<()> {
        if !any {
            w.write_all(before.as_bytes())?;
            any = true;
        }
        w.write_all(line(&l).as_bytes())
    };
    verdicts(&mut lines, &mut |v| put(verdict_line(v, verbose), &mut *w))?;
    for l in lines.tail() {
        put(l, &mut *w)?;
    }
    if any {
        w.write_all(after.as_bytes())?;
    }
    Ok(())
}
