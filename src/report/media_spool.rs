//! `media` of a capture whose media retires as it ends: RTP streams and SDP announcements
//! written out as they are finished, so that memory follows the media in progress, not
//! the media seen.
//!
//! Input: the rows of a retiring tracker ([`crate::media::Rows`], in report order) as the
//! capture is read; at the end the capture reports and the rest of the media report.
//! Output: the same document as [`super::media::write_media_json`] and the same tables as
//! [`super::media::media_table`], byte for byte. JSON rows go to spool files (the document
//! starts with the capture reports, known only at the end). A drawn table needs all its
//! rows for its column widths, so up to [`super::TABLE_ROWS`] streams are held; past
//! that the RTP table is plain columns sized by the first ones, and the lines and the
//! notes under them go to spool files. The table does not list announcements.

use std::io::{self, Write};

use super::media::{RTP_HEAD, rtp_cells, rtp_note, table_after_rtp, table_before_rtp};
use super::spool::SpoolFile;
use super::{Columns, TABLE_ROWS, wrap_lines};
use crate::media::{MediaReport, Rows, RtpStream};
use crate::sip::CaptureReport;

/// Indentation of the elements of `media.rtp` and `media.announced` in the document.
const ELEMENT_INDENT: usize = 6;

/// The media listing as its rows come; see the module docs.
pub struct MediaSpool {
    layout: Layout,
}

enum Layout {
    Json {
        rtp: SpoolFile,
        announced: SpoolFile,
    },
    Table {
        width: usize,
        /// The first streams (all of them, up to [`TABLE_ROWS`]).
        first: Vec<RtpStream>,
        /// Past [`TABLE_ROWS`] streams: the columns, the lines and the notes.
        columns: Option<(Columns, SpoolFile, SpoolFile)>,
        streams: usize,
    },
}

impl MediaSpool {
    /// The JSON document.
    pub fn json() -> io::Result<MediaSpool> {
        Ok(MediaSpool {
            layout: Layout::Json {
                rtp: SpoolFile::new("media-rtp")?,
                announced: SpoolFile::new("media-announced")?,
            },
        })
    }

    /// The tables, fitted to `width` columns.
    pub fn table(width: usize) -> MediaSpool {
        MediaSpool {
            layout: Layout::Table {
                width,
                first: Vec::new(),
                columns: None,
                streams: 0,
            },
        }
    }

    /// Rows finished, in report order (after those pushed before).
    pub fn push(&mut self, rows: Rows) -> io::Result<()> {
        match &mut self.layout {
            Layout::Json { rtp, announced } => {
                for r in &rows.rtp {
                    rtp.json_value(r, ELEMENT_INDENT)?;
                }
                for a in &rows.announced {
                    announced.json_value(a, ELEMENT_INDENT)?;
                }
            }
            Layout::Table {
                width,
                first,
                columns,
                streams,
            } => {
                for r in rows.rtp {
                    *streams += 1;
                    match columns {
                        Some((c, lines, notes)) => write_line(c, lines, notes, &r, *width)?,
                        None => {
                            first.push(r);
                            if first.len() > TABLE_ROWS {
                                let c = Columns::sized_by(
                                    &RTP_HEAD,
                                    first[..TABLE_ROWS].iter().map(rtp_cells),
                                );
                                let (mut lines, mut notes) = (
                                    SpoolFile::new("media-lines")?,
                                    SpoolFile::new("media-notes")?,
                                );
                                for r in std::mem::take(first) {
                                    write_line(&c, &mut lines, &mut notes, &r, *width)?;
                                }
                                *columns = Some((c, lines, notes));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the listing: the rows left in `media` after those pushed, then the
    /// document or the tables.
    pub fn finish(
        mut self,
        captures: &[CaptureReport],
        mut media: MediaReport,
        mut w: impl Write,
    ) -> io::Result<()> {
        let rest = Rows {
            rtp: std::mem::take(&mut media.rtp),
            announced: std::mem::take(&mut media.announced),
        };
        self.push(rest)?;
        match self.layout {
            Layout::Json {
                mut rtp,
                mut announced,
            } => {
                let mut head = Vec::new();
                super::media::write_media_json(captures, &media, &mut head)?;
                let head = String::from_utf8(head).map_err(io::Error::other)?;
                let mut at = 0;
                for (key, spool) in [("rtp", &mut rtp), ("announced", &mut announced)] {
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
            Layout::Table {
                width,
                first,
                columns,
                streams,
            } => match columns {
                None => {
                    media.rtp = first;
                    w.write_all(super::media::media_table(&media, width).as_bytes())?;
                }
                Some((c, mut lines, mut notes)) => {
                    w.write_all(table_before_rtp(&media, width).as_bytes())?;
                    w.write_all(b"RTP\n")?;
                    writeln!(w, "{}", c.line(&RTP_HEAD))?;
                    lines.copy_to(&mut w)?;
                    notes.copy_to(&mut w)?;
                    w.write_all(table_after_rtp(&media, streams, width).as_bytes())?;
                }
            },
        }
        w.flush()
    }
}

/// A stream's line of the plain columns, and its note.
fn write_line(
    c: &Columns,
    lines: &mut SpoolFile,
    notes: &mut SpoolFile,
    r: &RtpStream,
    width: usize,
) -> io::Result<()> {
    lines.line(&c.line(&rtp_cells(r)))?;
    if let Some(note) = rtp_note(r) {
        notes.text(&wrap_lines(&note, width))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Announced;

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

    /// The rows pushed in pieces as they come, and the rest with the report.
    fn spooled(mut spool: MediaSpool, m: &MediaReport) -> String {
        let mut rest = m.clone();
        let (rtp, announced) = (
            std::mem::take(&mut rest.rtp),
            std::mem::take(&mut rest.announced),
        );
        let (mut rtp, mut announced) = (rtp.into_iter(), announced.into_iter());
        let half = rtp.len() / 2;
        for _ in 0..half {
            let rows = Rows {
                rtp: rtp.by_ref().take(1).collect(),
                announced: announced.by_ref().take(1).collect(),
            };
            spool.push(rows).unwrap();
        }
        rest.rtp = rtp.collect();
        rest.announced = announced.collect();
        let mut out = Vec::new();
        spool.finish(&[], rest, &mut out).unwrap();
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
