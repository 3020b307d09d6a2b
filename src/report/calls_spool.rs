//! `calls --format json` of a capture whose calls retire as they end: each row written out
//! as its call retires, so that memory follows the calls in progress, not the calls seen.
//!
//! Input: rows with their positions in order of the calls' first messages, in the order
//! the calls retire; at the end the capture reports. Output: the same document as
//! [`super::listing::write_calls_json`], byte for byte. The document starts with the
//! capture reports, known only at the end, so the rows go to a spool file in the system's
//! temporary directory first (in order: a row that retires before an earlier call waits in
//! a small reorder buffer, as long as that call is in progress) and are copied behind the
//! head when the capture has been read. The file is removed when the spool is dropped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use serde::Serialize;

use super::listing::{CallRow, SCHEMA_VERSION};
use crate::sip::CaptureReport;

/// Rows spooled to a temporary file, in order; see the module docs.
pub struct CallsSpool {
    file: BufWriter<File>,
    path: PathBuf,
    /// The position of the next row to write.
    next: u64,
    /// Rows that retired before a call that began earlier, serialised.
    waiting: BTreeMap<u64, String>,
    written: u64,
}

impl CallsSpool {
    /// A spool file in the temporary directory.
    pub fn new() -> io::Result<CallsSpool> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "sipdiag-calls-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(CallsSpool {
            file: BufWriter::with_capacity(1 << 16, file),
            path,
            next: 0,
            waiting: BTreeMap::new(),
            written: 0,
        })
    }

    /// The row of the call at `position` (each position once).
    pub fn push(&mut self, position: u64, row: &CallRow) -> io::Result<()> {
        let text = serde_json::to_string_pretty(row).map_err(io::Error::other)?;
        if position != self.next {
            self.waiting.insert(position, text);
            return Ok(());
        }
        self.write_row(&text)?;
        self.next += 1;
        while let Some(text) = self.waiting.remove(&self.next) {
            self.write_row(&text)?;
            self.next += 1;
        }
        Ok(())
    }

    /// Rows waiting for an earlier call (held in memory).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// A row as an element of the document's `calls` array (two levels deep).
    fn write_row(&mut self, text: &str) -> io::Result<()> {
        if self.written > 0 {
            self.file.write_all(b",\n")?;
        }
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.file.write_all(b"\n")?;
            }
            self.file.write_all(b"    ")?;
            self.file.write_all(line.as_bytes())?;
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the document: its head with `captures`, then the spooled rows.
    pub fn finish(mut self, captures: &[CaptureReport], mut w: impl Write) -> io::Result<()> {
        // Positions never handed in (none when every call retired): the rest in order.
        for text in std::mem::take(&mut self.waiting).into_values() {
            self.write_row(&text)?;
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
        if self.written == 0 {
            w.write_all(b",\n  \"calls\": []\n}\n")?;
            return w.flush();
        }
        w.write_all(b",\n  \"calls\": [\n")?;
        self.file.flush()?;
        let file = self.file.get_mut();
        use std::io::Seek;
        file.seek(io::SeekFrom::Start(0))?;
        io::copy(file, &mut w)?;
        w.write_all(b"\n  ]\n}\n")?;
        w.flush()
    }
}

impl Drop for CallsSpool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
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
        let path = spool.path.clone();
        let mut out = Vec::new();
        spool.finish(&captures, &mut out).unwrap();
        let whole = crate::report::listing::calls_json(&captures, &rows);
        assert_eq!(String::from_utf8(out).unwrap(), whole);
        assert!(!path.exists(), "the spool file is removed");

        let mut out = Vec::new();
        CallsSpool::new()
            .unwrap()
            .finish(&captures, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            crate::report::listing::calls_json(&captures, &[])
        );
    }
}
