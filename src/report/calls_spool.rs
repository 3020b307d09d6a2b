//! `calls --format json` of a capture whose calls retire as they end: each row written out
//! as its call retires, so that memory follows the calls in progress, not the calls seen.
//!
//! Input: rows with their positions in order of the calls' first messages, in the order
//! the calls retire; at the end the capture reports. Output: the same document as
//! [`super::call_listing::write_calls_json`], byte for byte. The document starts with the
//! capture reports, known only at the end, so the rows go to a spool file in the system's
//! temporary directory first (in order: a row that retires before an earlier call waits in
//! a small reorder buffer, as long as that call is in progress) and are copied behind the
//! head when the capture has been read. The file is removed when the spool is dropped.

use std::io::{self, Write};

use serde::Serialize;

use super::call_listing::{CallLines, CallRow};
use super::listing::SCHEMA_VERSION;
use super::ordered::Ordered;
use super::spool::{SpoolFile, json_element_bytes};
use crate::sip::CaptureReport;

/// Rows spooled to a temporary file, in order; see the module docs.
pub struct CallsSpool {
    file: SpoolFile,
    layout: Layout,
    /// The position of the next row to write.
    next: u64,
    /// Rows that retired before a call that began earlier, serialised.
    waiting: Ordered,
    /// Where each JSON row is made.
    scratch: Vec<u8>,
    /// Rows of calls without a Call-ID header (for the plain columns' note).
    without_call_id: usize,
}

/// What the spool writes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// The JSON document.
    Json,
    /// The table's plain columns.
    Lines(CallLines),
}

impl CallsSpool {
    /// A spool of the JSON document in the temporary directory.
    pub fn new() -> io::Result<CallsSpool> {
        Self::with_layout(Layout::Json)
    }

    /// A spool of the table's plain columns, for more than
    /// [`super::TABLE_ROWS`] calls: the same calls, notes and footer as
    /// the drawn table.
    pub fn lines(columns: CallLines) -> io::Result<CallsSpool> {
        Self::with_layout(Layout::Lines(columns))
    }

    fn with_layout(layout: Layout) -> io::Result<CallsSpool> {
        Ok(CallsSpool {
            file: SpoolFile::new("calls")?,
            layout,
            next: 0,
            waiting: Ordered::default(),
            without_call_id: 0,
            scratch: Vec::new(),
        })
    }

    /// The row of the call at `position` (each position once).
    pub fn push(&mut self, position: u64, row: &CallRow) -> io::Result<()> {
        let bytes = match &self.layout {
            Layout::Json => json_element_bytes(row, 4, &mut self.scratch)?,
            Layout::Lines(columns) => columns.row(row).into_bytes(),
        };
        self.without_call_id += usize::from(row.no_call_id.is_some());
        self.waiting.push(position, bytes)?;
        let (file, layout) = (&mut self.file, &self.layout);
        self.waiting
            .release_from(&mut self.next, &mut |text| write_row(file, layout, text))
    }

    /// Rows waiting for an earlier call (in memory up to a few MiB, then on disk).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Writes the document: its head with `captures`, then the spooled rows.
    pub fn finish(mut self, captures: &[CaptureReport], mut w: impl Write) -> io::Result<()> {
        // Positions never handed in (none when every call retired): the rest in order.
        let (file, layout) = (&mut self.file, &self.layout);
        self.waiting
            .release(u64::MAX, &mut |text| write_row(file, layout, text))?;
        if let Layout::Lines(columns) = &self.layout {
            writeln!(w, "{}", columns.head())?;
            self.file.copy_to(&mut w)?;
            let tail = super::call_listing::calls_tail(captures, self.without_call_id);
            w.write_all(tail.as_bytes())?;
            return w.flush();
        }
        #[derive(Serialize)]
        struct Head<'a> {
            schema_version: u32,
            captures: &'a [CaptureReport],
        }
        let head = serde_json::to_string_pretty(&Head {
            schema_version: SCHEMA_VERSION,
            captures,
        })
        .map_err(io::Error::other)?;
        // `{ … "captures": […]\n}` without its closing brace, the calls after it.
        let head = head.strip_suffix("\n}").unwrap_or(&head);
        w.write_all(head.as_bytes())?;
        if self.file.items == 0 {
            w.write_all(b",\n  \"calls\": []\n}\n")?;
            return w.flush();
        }
        w.write_all(b",\n  \"calls\": [\n")?;
        self.file.copy_to(&mut w)?;
        w.write_all(b"\n  ]\n}\n")?;
        w.flush()
    }
}

/// A row as an element of the document's `calls` array (two levels deep, made by
/// [`json_element_bytes`]), or as a line.
fn write_row(file: &mut SpoolFile, layout: &Layout, row: &[u8]) -> io::Result<()> {
    match layout {
        Layout::Lines(_) => file.line(row),
        Layout::Json => file.element(row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64) -> CallRow {
        CallRow {
            call_id: format!("call-{n}\n\"quoted\""),
            first_frame: n,
            last_frame: n + 3,
            from: Some("+4915112345678".into()),
            to: None,
            diversion: vec!["004930123456".into()],
            forwarding: Vec::new(),
            methods: vec!["INVITE".into(), "ACK".into()],
            final_status: Some(503),
            final_frame: Some(n + 2),
            messages: 4,
            no_call_id: None,
        }
    }

    /// Rows handed in out of order (as calls retire) give the document the whole list
    /// gives, byte for byte; only the rows ahead of an unretired call wait in memory.
    #[test]
    fn rows_in_retirement_order_give_the_document_in_call_order() {
        let rows: Vec<CallRow> = (0..6).map(row).collect();
        let captures: Vec<CaptureReport> = Vec::new();
        let mut spool = CallsSpool::new().unwrap();
        for &i in &[1u64, 2, 0, 5, 3, 4] {
            spool.push(i, &rows[i as usize]).unwrap();
            if i == 2 {
                assert_eq!(spool.waiting(), 2, "1 and 2 wait for 0");
            }
        }
        assert_eq!(spool.waiting(), 0);
        let path = spool.file.path().to_path_buf();
        let mut out = Vec::new();
        spool.finish(&captures, &mut out).unwrap();
        let whole = crate::report::call_listing::calls_json(&captures, &rows);
        assert_eq!(String::from_utf8(out).unwrap(), whole);
        assert!(!path.exists(), "the spool file is removed");

        let mut out = Vec::new();
        CallsSpool::new()
            .unwrap()
            .finish(&captures, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            crate::report::call_listing::calls_json(&captures, &[])
        );
    }

    /// The plain columns likewise: in call order, with the head and the note on calls
    /// without a Call-ID that the whole list gives.
    #[test]
    fn plain_columns_in_retirement_order_give_the_listing_in_call_order() {
        let mut rows: Vec<CallRow> = (0..6).map(row).collect();
        rows[3].no_call_id = Some(crate::calls::NoCallIdKey {
            from_tag: Some("t".into()),
            cseq: Some(1),
            addresses: ["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()],
        });
        let captures: Vec<CaptureReport> = Vec::new();
        let columns = CallLines::sized_by(&rows, false);
        let mut spool = CallsSpool::lines(columns).unwrap();
        for &i in &[2u64, 0, 1, 5, 4, 3] {
            spool.push(i, &rows[i as usize]).unwrap();
        }
        let mut out = Vec::new();
        spool.finish(&captures, &mut out).unwrap();
        let mut whole = Vec::new();
        crate::report::call_listing::write_call_lines(&mut whole, &captures, &rows, false).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, String::from_utf8(whole).unwrap());
        assert_eq!(out.lines().count(), 1 + 6 + 1, "{out}");
        // A Call-ID's line break stays escaped on the call's one line.
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .starts_with("call-0\\n\"quoted\"  0–3"),
            "{out}"
        );
    }
}
