//! `media` of a capture whose media retires as it ends: RTP streams and SDP announcements
//! written out as they are finished, so that memory follows the media in progress, not
//! the media seen.
//!
//! Input: the rows of a retiring tracker ([`crate::media::Rows`]: as they are finished,
//! with the bounds below which the report's order is settled) as the capture is read; at
//! the end the capture reports and the rest of the media report. Output: the same
//! document as [`super::media::write_media_json`] and the same tables as
//! [`super::media::media_table`], byte for byte.
//!
//! Rows are put in the report's order by `report::ordered` (a row waits while one that goes
//! before it is in progress, on disk past a few MiB). JSON rows then go to spool files
//! (the document starts with the capture reports, known only at the end). A drawn table
//! needs all its rows for its column widths, so up to [`super::TABLE_ROWS`] streams are
//! held; past that the RTP table is plain columns sized by the first ones, and the lines
//! and the notes under them go to spool files. The table does not list announcements.

use std::io::{self, Write};

use super::media::{RTP_HEAD, rtp_cells, rtp_note, rtp_section, table_after_rtp, table_before_rtp};
use super::ordered::Ordered;
use super::spool::{SpoolFile, json_element_bytes};
use super::{Columns, TABLE_ROWS, wrap_lines};
use crate::media::{MediaReport, Rows};
use crate::sip::CaptureReport;

/// Indentation of the elements of `media.rtp` and `media.announced` in the document.
const ELEMENT_INDENT: usize = 6;

/// The media listing as its rows come; see the module docs.
pub struct MediaSpool {
    layout: Layout,
    /// Where each row is made before it is filed.
    scratch: Vec<u8>,
}

enum Layout {
    Json {
        rtp: Ordered,
        rtp_out: SpoolFile,
        announced: Ordered,
        announced_out: SpoolFile,
    },
    Table {
        width: usize,
        rtp: Ordered,
        table: TableRows,
    },
}

/// The RTP table's rows in order: the first ones held (all of them, up to
/// [`TABLE_ROWS`]); past that the columns, the lines and the notes.
#[derive(Default)]
struct TableRows {
    first: Vec<(Vec<String>, Option<String>)>,
    columns: Option<(Columns, SpoolFile, SpoolFile)>,
    streams: usize,
}

impl MediaSpool {
    /// The JSON document.
    pub fn json() -> io::Result<MediaSpool> {
        Ok(MediaSpool {
            scratch: Vec::new(),
            layout: Layout::Json {
                rtp: Ordered::default(),
                rtp_out: SpoolFile::new("media-rtp")?,
                announced: Ordered::default(),
                announced_out: SpoolFile::new("media-announced")?,
            },
        })
    }

    /// The tables, fitted to `width` columns.
    pub fn table(width: usize) -> MediaSpool {
        MediaSpool {
            scratch: Vec::new(),
            layout: Layout::Table {
                width,
                rtp: Ordered::default(),
                table: TableRows::default(),
            },
        }
    }

    /// Rows finished (in any order), and how far the order is settled.
    pub fn push(&mut self, rows: Rows) -> io::Result<()> {
        match &mut self.layout {
            Layout::Json {
                rtp,
                rtp_out,
                announced,
                announced_out,
            } => {
                let scratch = &mut self.scratch;
                for r in &rows.rtp {
                    rtp.push(
                        r.first_frame,
                        json_element_bytes(r, ELEMENT_INDENT, scratch)?,
                    )?;
                }
                for (seq, a) in &rows.announced {
                    announced.push(*seq, json_element_bytes(a, ELEMENT_INDENT, scratch)?)?;
                }
                rtp.release(rows.rtp_below, &mut |b| rtp_out.element(b))?;
                announced.release(rows.announced_below, &mut |b| announced_out.element(b))?;
            }
            Layout::Table { width, rtp, table } => {
                for r in &rows.rtp {
                    rtp.push(r.first_frame, encode(&rtp_cells(r), rtp_note(r).as_deref()))?;
                }
                rtp.release(rows.rtp_below, &mut |b| {
                    let (cells, note) = decode(b)?;
                    table.add(cells, note, *width)
                })?;
            }
        }
        Ok(())
    }

    /// Writes the listing: the rows left (`rest`, the last), then the document or the
    /// tables of `media`, whose own rows are not listed.
    pub fn finish(
        mut self,
        captures: &[CaptureReport],
        mut media: MediaReport,
        rest: Rows,
        mut w: impl Write,
    ) -> io::Result<()> {
        self.push(Rows {
            rtp_below: u64::MAX,
            announced_below: u64::MAX,
            ..rest
        })?;
        media.rtp = Vec::new();
        media.announced = Vec::new();
        match self.layout {
            Layout::Json {
                mut rtp_out,
                mut announced_out,
                ..
            } => {
                let mut head = Vec::new();
                super::media::write_media_json(captures, &media, &mut head)?;
                let head = String::from_utf8(head).map_err(io::Error::other)?;
                let mut at = 0;
                for (key, spool) in [("rtp", &mut rtp_out), ("announced", &mut announced_out)] {
                    let empty = format!("\n    \"{key}\": []");
                    let Some(i) = head[at..].find(&empty).map(|i| i + at) else {
                        return Err(io::Error::other(format!("no {key} in the media report")));
                    };
                    let open = i + empty.len() - 1;
                    w.write_all(&head.as_bytes()[at..open])?;
                    if spool.items > 0 {
                        w.write_all(b"\n")?;
                        spool.copy_to(&mut w)?;
                        w.write_all(b"\n    ")?;
                    }
                    at = open;
                }
                w.write_all(&head.as_bytes()[at..])?;
            }
            Layout::Table { width, table, .. } => match table.columns {
                None => {
                    w.write_all(table_before_rtp(&media, width).as_bytes())?;
                    w.write_all(rtp_section(table.first, width).as_bytes())?;
                    w.write_all(table_after_rtp(&media, table.streams, width).as_bytes())?;
                }
                Some((c, mut lines, mut notes)) => {
                    w.write_all(table_before_rtp(&media, width).as_bytes())?;
                    w.write_all(b"RTP\n")?;
                    writeln!(w, "{}", c.line(&RTP_HEAD))?;
                    lines.copy_to(&mut w)?;
                    notes.copy_to(&mut w)?;
                    w.write_all(table_after_rtp(&media, table.streams, width).as_bytes())?;
                }
            },
        }
        w.flush()
    }
}

impl TableRows {
    /// The next stream's cells and note.
    fn add(&mut self, cells: Vec<String>, note: Option<String>, width: usize) -> io::Result<()> {
        self.streams += 1;
        if let Some((c, lines, notes)) = &mut self.columns {
            return write_line(c, lines, notes, &cells, note.as_deref(), width);
        }
        self.first.push((cells, note));
        if self.first.len() > TABLE_ROWS {
            let c = Columns::sized_by(&RTP_HEAD, self.first[..TABLE_ROWS].iter().map(|(c, _)| c));
            let (mut lines, mut notes) = (
                SpoolFile::new("media-lines")?,
                SpoolFile::new("media-notes")?,
            );
            for (cells, note) in std::mem::take(&mut self.first) {
                write_line(&c, &mut lines, &mut notes, &cells, note.as_deref(), width)?;
            }
            self.columns = Some((c, lines, notes));
        }
        Ok(())
    }
}

/// A stream's line of the plain columns, and its note.
fn write_line(
    c: &Columns,
    lines: &mut SpoolFile,
    notes: &mut SpoolFile,
    cells: &[String],
    note: Option<&str>,
    width: usize,
) -> io::Result<()> {
    lines.line(c.line(cells))?;
    if let Some(note) = note {
        notes.text(&wrap_lines(note, width))?;
    }
    Ok(())
}

/// A stream's cells and note as bytes: each a 4-byte length and its text (a note's
/// length `u32::MAX` when there is none).
fn encode(cells: &[String], note: Option<&str>) -> Vec<u8> {
    let size = cells.iter().map(|c| 4 + c.len()).sum::<usize>() + 4 + note.map_or(0, str::len);
    let mut out = Vec::with_capacity(size);
    let mut text = |t: &str| {
        out.extend_from_slice(&(t.len() as u32).to_le_bytes());
        out.extend_from_slice(t.as_bytes());
    };
    for c in cells {
        text(c);
    }
    match note {
        Some(n) => text(n),
        None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
    out
}

/// [`encode`] undone.
fn decode(mut b: &[u8]) -> io::Result<(Vec<String>, Option<String>)> {
    let bad = || io::Error::other("a row of the media spool is damaged");
    let next = |b: &mut &[u8]| -> io::Result<Option<String>> {
        let (len, rest) = b.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_le_bytes(*len);
        if len == u32::MAX {
            *b = rest;
            return Ok(None);
        }
        let (text, rest) = rest.split_at_checked(len as usize).ok_or_else(bad)?;
        *b = rest;
        Ok(Some(String::from_utf8(text.to_vec()).map_err(|_| bad())?))
    };
    let mut cells = Vec::with_capacity(RTP_HEAD.len());
    for _ in 0..RTP_HEAD.len() {
        cells.push(next(&mut b)?.ok_or_else(bad)?);
    }
    let note = next(&mut b)?;
    Ok((cells, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{Announced, RtpStream};

    /// A report of `streams` streams (and as many announcements), with a note under some.
    fn report(streams: u32) -> MediaReport {
        let mut m = super::super::media::tests::sample();
        let one = m.rtp[0].clone();
        m.rtp = (0..streams)
            .map(|n| RtpStream {
                ssrc: n,
                first_frame: u64::from(n),
                jitter_note: (n % 3 == 0).then(|| format!("note {n}")),
                ..one.clone()
            })
            .collect();
        let format = std::sync::Arc::new(crate::media::AnnouncedFormat {
            kind: "audio".into(),
            codecs: vec!["PCMA".into()],
            direction: crate::sip::sdp::Direction::SendRecv,
            payloads: Vec::new(),
        });
        m.announced = (0..streams)
            .map(|n| Announced {
                call_id: format!("call-{n}").into(),
                addr: "10.0.0.2:5000".parse().unwrap(),
                frame: u64::from(n),
                format: format.clone(),
                candidate: None,
                received: u64::from(n),
                sent: 0,
                rtp_received: 0,
                rtp_sent: 0,
            })
            .collect();
        m
    }

    /// The rows pushed as a retiring tracker gives them: scrambled, in pieces, each
    /// piece with the bounds below which the order is settled; the rest with the report.
    fn spooled(mut spool: MediaSpool, m: &MediaReport) -> String {
        let mut rest = m.clone();
        let rtp = std::mem::take(&mut rest.rtp);
        let announced: Vec<(u64, Announced)> =
            (0..).zip(std::mem::take(&mut rest.announced)).collect();
        // Pieces of three rows, the last of each first: a row waits for the one before.
        let n = rtp.len();
        let mut at = 0;
        while at + 3 <= n / 2 {
            let mut piece = Rows {
                rtp: rtp[at..at + 3].iter().rev().cloned().collect(),
                announced: announced[at..at + 3].iter().rev().cloned().collect(),
                rtp_below: rtp[at + 1].first_frame,
                announced_below: at as u64 + 1,
            };
            spool.push(std::mem::take(&mut piece)).unwrap();
            at += 3;
        }
        let rest_rows = Rows {
            rtp: rtp[at..].iter().rev().cloned().collect(),
            announced: announced[at..].iter().rev().cloned().collect(),
            ..Rows::default()
        };
        let mut out = Vec::new();
        spool.finish(&[], rest, rest_rows, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_json_document_is_the_whole_reports() {
        for n in [0, 1, 5] {
            let m = report(n);
            let mut whole = Vec::new();
            super::super::media::write_media_json(&[], &m, &mut whole).unwrap();
            let whole = String::from_utf8(whole).unwrap();
            assert_eq!(
                spooled(MediaSpool::json().unwrap(), &m),
                whole,
                "{n} streams"
            );
        }
    }

    /// Drawn (up to `TABLE_ROWS` streams) or in plain columns sized by the first
    /// `TABLE_ROWS`, with the notes after them: the tables of the whole report.
    #[test]
    fn the_tables_are_the_whole_reports() {
        for n in [0, 3, TABLE_ROWS as u32, TABLE_ROWS as u32 + 2] {
            let m = report(n);
            let whole = super::super::media::media_table(&m, 80);
            assert_eq!(spooled(MediaSpool::table(80), &m), whole, "{n} streams");
        }
    }
}
