//! Stage 1, backwards: a capture written out again as pcapng, frame by frame.
//!
//! Input: a capture path (pcap, pcapng, gzip; read with [`read_capture_blocks`], so the
//! frames carry the same numbers as in every other command) and a [`Rewrite`]: which
//! frames to keep, the comments to add to some of them, an optional transform of each
//! frame's bytes, and whether to drop the metadata the capture carries besides packets.
//! Output: pcapng on a writer, written while the input is read (nothing is held but the
//! block at hand).
//!
//! What is kept: every packet's bytes, original length and timestamp at its full
//! resolution (pcapng timestamps are copied as stored; a classic pcap becomes one
//! interface whose `if_tsresol` matches it, microseconds or nanoseconds), every interface
//! with its link type, snaplen and options, and every other block as stored. A pcapng
//! section keeps its byte order. Comments are `opt_comment` options (pcapng option code 1)
//! added to the packet's Enhanced (or obsolete) Packet Block, after the options it
//! already has; a Simple Packet Block has no options and cannot take one (counted in
//! [`RewriteSummary::comments_skipped`]).
//!
//! Invariants: the blocks written are well-formed whatever the input (lengths come from
//! the bytes at hand, never trusted beyond them); the section length of every section
//! header is written as unknown (-1), since frames may be added to or left out.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{CaptureError, CaptureSummary, Frame, StoredBlock, Timestamp, read_capture_blocks};

/// pcapng block types (draft-ietf-opsawg-pcapng §4, §11.1).
const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const NRB: u32 = 4;
const ISB: u32 = 5;
const EPB: u32 = 6;
const DSB: u32 = 10;

/// Option codes.
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_TSRESOL: u16 = 9;
const IF_FCSLEN: u16 = 13;
const IF_TSOFFSET: u16 = 14;

/// A transform of each written frame's bytes (the hook for redaction). It should keep
/// the length: a frame is written with the length returned, but the original length
/// recorded on the wire is kept.
pub type Transform<'a> = dyn for<'f> FnMut(&Frame<'f>) -> Cow<'f, [u8]> + 'a;

/// Boxes a closure as a [`Transform`] (and lets the compiler see that its result borrows
/// from the frame's bytes).
pub fn transform<'a>(
    f: impl for<'f> FnMut(&Frame<'f>) -> Cow<'f, [u8]> + 'a,
) -> Box<Transform<'a>> {
    Box::new(f)
}

/// The comments to add to frames, asked for in the order the frames are read: a frame
/// number no smaller than the last one asked for (the same one may be asked for again).
pub trait FrameComments {
    /// The comments of frame `frame`.
    fn of(&mut self, frame: u64) -> &[String];
    /// How many comments there are for frames after `frame` (the last one read).
    fn after(&mut self, frame: u64) -> u64;
}

/// No comment on any frame.
pub struct NoComments;

impl FrameComments for NoComments {
    fn of(&mut self, _: u64) -> &[String] {
        &[]
    }
    fn after(&mut self, _: u64) -> u64 {
        0
    }
}

impl<T: FrameComments + ?Sized> FrameComments for &mut T {
    fn of(&mut self, frame: u64) -> &[String] {
        (**self).of(frame)
    }
    fn after(&mut self, frame: u64) -> u64 {
        (**self).after(frame)
    }
}

impl FrameComments for BTreeMap<u64, Vec<String>> {
    fn of(&mut self, frame: u64) -> &[String] {
        self.get(&frame).map_or(&[], Vec::as_slice)
    }
    fn after(&mut self, frame: u64) -> u64 {
        let later = self.range(frame.saturating_add(1)..);
        later.map(|(_, c)| c.len() as u64).sum()
    }
}

/// What to write.
pub struct Rewrite<'a> {
    /// Whether the frame with this number is written (records that take no frame number,
    /// such as interface descriptions, are always written).
    pub keep: &'a mut dyn FnMut(u64) -> bool,
    /// Comments to add, asked for frame by frame.
    pub comments: &'a mut dyn FrameComments,
    /// Applied to the bytes of every frame written.
    pub transform: Option<Box<Transform<'a>>>,
    /// Leave out what the capture carries besides packets and their timing: section,
    /// interface and packet options (but `if_tsresol`, `if_tsoffset` and `if_fcslen`,
    /// which the timestamps and bytes need), name resolution, interface statistics and
    /// decryption secrets blocks.
    pub drop_metadata: bool,
}

impl<'a> Rewrite<'a> {
    /// Every frame, as stored, with these comments.
    pub fn annotate(
        keep: &'a mut dyn FnMut(u64) -> bool,
        comments: &'a mut dyn FrameComments,
    ) -> Self {
        Rewrite {
            keep,
            comments,
            transform: None,
            drop_metadata: false,
        }
    }
}

/// What a rewrite did.
#[derive(Debug, Clone)]
pub struct RewriteSummary {
    /// What reading the input found (frame count, anomalies).
    pub capture: CaptureSummary,
    /// Frames written.
    pub written: u64,
    /// Comments written, and comments for frames that could not take one (Simple Packet
    /// Blocks) or that the input did not have.
    pub comments_written: u64,
    pub comments_skipped: u64,
}

/// The rewrite could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("{path}: cannot write: {cause}")]
    Write { path: String, cause: io::Error },
}

/// Reads the capture at `input` and writes it to `out` as pcapng, as `plan` says; `out_name`
/// names the output in errors. Writes through `out` as it reads (wrap a file in a
/// `BufWriter`).
pub fn rewrite_capture(
    input: &str,
    out: &mut dyn Write,
    out_name: &str,
    plan: Rewrite<'_>,
) -> Result<RewriteSummary, RewriteError> {
    let mut w = Writer {
        out,
        plan,
        error: None,
        section_big_endian: false,
        legacy_resolution: 1_000_000,
        scratch: Vec::with_capacity(1 << 16),
        written: 0,
        comments_written: 0,
        comments_skipped: 0,
    };
    // The frame `on_block` is about to see, as the reader decoded it.
    let pending: Cell<Option<(u64, Timestamp, u32, u32)>> = Cell::new(None);
    let capture = read_capture_blocks(
        input,
        |f| pending.set(Some((f.number, f.time, f.linktype, f.orig_len))),
        |b| {
            let frame = pending.take().filter(|p| Some(p.0) == b.frame);
            if w.error.is_none()
                && let Err(e) = w.block(b, frame)
            {
                w.error = Some(e);
            }
        },
    )?;
    if let Some(cause) = w.error.take() {
        return Err(RewriteError::Write {
            path: out_name.to_string(),
            cause,
        });
    }
    let mut summary = RewriteSummary {
        capture,
        written: w.written,
        comments_written: w.comments_written,
        comments_skipped: w.comments_skipped,
    };
    // Comments for frames past the end of what could be read.
    summary.comments_skipped += w.plan.comments.after(summary.capture.frames);
    Ok(summary)
}

struct Writer<'o, 'p> {
    out: &'o mut dyn Write,
    plan: Rewrite<'p>,
    error: Option<io::Error>,
    /// Byte order of the section being written.
    section_big_endian: bool,
    /// Units per second of a classic pcap's timestamps.
    legacy_resolution: u64,
    scratch: Vec<u8>,
    written: u64,
    comments_written: u64,
    comments_skipped: u64,
}

/// Reads integers of one byte order from a block, `None` past its end.
#[derive(Clone, Copy)]
struct Bytes<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl<'a> Bytes<'a> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The options from `start` up to the block's trailing length: (code, raw option
    /// bytes including its header and padding), up to `opt_endofopt` or the first option
    /// that does not fit.
    fn options(&self, start: usize) -> Vec<(u16, &'a [u8])> {
        let end = self.data.len().saturating_sub(4);
        let mut at = start;
        let mut v = Vec::new();
        while at + 4 <= end {
            let (Some(code), Some(len)) = (self.u16(at), self.u16(at + 2)) else {
                break;
            };
            if code == OPT_ENDOFOPT {
                break;
            }
            let next = at + 4 + pad4(usize::from(len));
            if next > end {
                break;
            }
            v.push((code, &self.data[at..next]));
            at = next;
        }
        v
    }
}

fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

impl Writer<'_, '_> {
    fn block(
        &mut self,
        b: StoredBlock<'_>,
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> io::Result<()> {
        if let Some(n) = b.frame
            && !(self.plan.keep)(n)
        {
            return Ok(());
        }
        let bytes = Bytes {
            data: b.bytes,
            big_endian: b.big_endian,
        };
        if b.legacy {
            return if b.frame.is_none() {
                self.legacy_header(bytes)
            } else {
                self.legacy_record(bytes, frame)
            };
        }
        let Some(kind) = bytes.u32(0) else {
            return Ok(());
        };
        match kind {
            SHB => {
                self.section_big_endian = b.big_endian;
                let mut out = b.bytes.to_vec();
                // Frames may be added to or left out of the section: its length is unknown.
                if let Some(len) = out.get_mut(16..24) {
                    len.fill(0xff);
                }
                if self.plan.drop_metadata {
                    let keep = out.get(..24).unwrap_or(&out).to_vec();
                    self.start(SHB);
                    self.scratch
                        .extend_from_slice(keep.get(8..).unwrap_or_default());
                    self.end();
                    return self.flush();
                }
                self.out.write_all(&out)
            }
            IDB if self.plan.drop_metadata => {
                self.start(IDB);
                self.scratch
                    .extend_from_slice(b.bytes.get(8..16).unwrap_or(&[0; 8]));
                let kept: Vec<&[u8]> = bytes
                    .options(16)
                    .into_iter()
                    .filter(|(c, _)| matches!(*c, IF_TSRESOL | IF_TSOFFSET | IF_FCSLEN))
                    .map(|(_, raw)| raw)
                    .collect();
                for raw in &kept {
                    self.scratch.extend_from_slice(raw);
                }
                if !kept.is_empty() {
                    self.option(OPT_ENDOFOPT, &[]);
                }
                self.end();
                self.flush()
            }
            EPB | OPB => self.packet(bytes, kind, frame),
            SPB => self.simple_packet(bytes, frame),
            NRB | ISB | DSB if self.plan.drop_metadata => Ok(()),
            _ => {
                if b.frame.is_some() {
                    self.written += 1;
                }
                self.out.write_all(b.bytes)
            }
        }
    }

    /// A classic pcap's file header: a section with one interface.
    fn legacy_header(&mut self, h: Bytes<'_>) -> io::Result<()> {
        let magic = h.data.get(..4).unwrap_or_default();
        let nanos = matches!(magic, [0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1]);
        self.legacy_resolution = if nanos { 1_000_000_000 } else { 1_000_000 };
        self.section_big_endian = false;
        self.start(SHB);
        self.u32(0x1A2B_3C4D);
        self.u16(1);
        self.u16(0);
        self.scratch.extend_from_slice(&[0xff; 8]);
        if !self.plan.drop_metadata {
            let app = concat!("sipdiag ", env!("CARGO_PKG_VERSION"));
            self.option(SHB_USERAPPL, app.as_bytes());
            self.option(OPT_ENDOFOPT, &[]);
        }
        self.end();
        self.flush()?;
        // The link type's upper bits carry the FCS length (pcap-linktype), not the type.
        let network = h.u32(20).unwrap_or(0);
        self.start(IDB);
        self.u16((network & 0xffff) as u16);
        self.u16(0);
        self.u32(h.u32(16).unwrap_or(0));
        if nanos {
            self.option(IF_TSRESOL, &[9]);
        }
        if network & 0x0400_0000 != 0 {
            self.option(IF_FCSLEN, &[((network >> 28) as u8) * 2]);
        }
        if nanos || network & 0x0400_0000 != 0 {
            self.option(OPT_ENDOFOPT, &[]);
        }
        self.end();
        self.flush()
    }

    /// A classic pcap record as an Enhanced Packet Block on interface 0.
    fn legacy_record(
        &mut self,
        r: Bytes<'_>,
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> io::Result<()> {
        let (Some(secs), Some(frac), Some(caplen), Some(orig)) =
            (r.u32(0), r.u32(4), r.u32(8), r.u32(12))
        else {
            return Ok(());
        };
        // The data ends the record (a modified pcap's record header is longer than 16).
        let len = r.data.len();
        let data = &r.data[len.saturating_sub(caplen as usize).max(16.min(len))..];
        let units = u64::from(secs) * self.legacy_resolution + u64::from(frac);
        let mut head = [0u8; 20];
        head[4..8].copy_from_slice(&self.endian32((units >> 32) as u32));
        head[8..12].copy_from_slice(&self.endian32(units as u32));
        head[16..20].copy_from_slice(&self.endian32(orig));
        self.packet_parts(EPB, &head, data, &[], frame)
    }

    /// An Enhanced Packet Block, or an obsolete Packet Block (same layout: fields in
    /// bytes 8..28, then the data and the options).
    fn packet(
        &mut self,
        p: Bytes<'_>,
        kind: u32,
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> io::Result<()> {
        let Some(head) = p.data.get(8..28) else {
            return self.out.write_all(p.data);
        };
        let caplen = p.u32(20).unwrap_or(0) as usize;
        let room = p.data.len().saturating_sub(32);
        let data = &p.data[28..28 + caplen.min(room)];
        let options = p.options(28 + pad4(caplen.min(room)));
        let number = frame.map(|f| f.0);
        let plain = self.plan.transform.is_none()
            && !self.plan.drop_metadata
            && number.is_none_or(|n| self.plan.comments.of(n).is_empty());
        if plain {
            // Nothing to change: as stored.
            self.written += 1;
            return self.out.write_all(p.data);
        }
        // The caplen field (bytes 8..12) is written from the bytes written.
        let head: [u8; 20] = head.try_into().unwrap_or([0; 20]);
        let kept: Vec<&[u8]> = if self.plan.drop_metadata {
            Vec::new()
        } else {
            options.into_iter().map(|(_, raw)| raw).collect()
        };
        self.packet_parts(kind, &head, data, &kept, frame)
    }

    /// Writes a packet block: `head` is bytes 8..28 (interface, timestamp high and low,
    /// caplen, original length; caplen is written from the data), then the data (transformed), the options given and
    /// the frame's comments.
    fn packet_parts(
        &mut self,
        kind: u32,
        head: &[u8; 20],
        data: &[u8],
        options: &[&[u8]],
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> io::Result<()> {
        let data = self.transformed(data, frame);
        self.start(kind);
        self.scratch.extend_from_slice(&head[..12]);
        self.u32(data.len() as u32);
        self.scratch.extend_from_slice(&head[16..20]);
        self.scratch.extend_from_slice(&data);
        self.pad();
        // Few frames have comments: those are copied out of the plan's.
        let comments = frame.map_or_else(Vec::new, |f| self.plan.comments.of(f.0).to_vec());
        for raw in options {
            self.scratch.extend_from_slice(raw);
        }
        for c in &comments {
            // An option's length is 16 bits: a longer comment is cut at a character.
            let mut end = c.len().min(0xfff0);
            while !c.is_char_boundary(end) {
                end -= 1;
            }
            self.option(OPT_COMMENT, &c.as_bytes()[..end]);
        }
        self.comments_written += comments.len() as u64;
        if !options.is_empty() || !comments.is_empty() {
            self.option(OPT_ENDOFOPT, &[]);
        }
        self.end();
        self.written += 1;
        self.flush()
    }

    /// A Simple Packet Block: no options, so no comment; the transform keeps its length.
    fn simple_packet(
        &mut self,
        p: Bytes<'_>,
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> io::Result<()> {
        if let Some(f) = frame {
            self.comments_skipped += self.plan.comments.of(f.0).len() as u64;
        }
        self.written += 1;
        let orig = p.u32(8).unwrap_or(0) as usize;
        let room = p.data.len().saturating_sub(16);
        let len = orig.min(room);
        if self.plan.transform.is_none() || p.data.len() < 16 {
            return self.out.write_all(p.data);
        }
        let data = self.transformed(&p.data[12..12 + len], frame);
        let mut out = p.data.to_vec();
        // The block's size fixes the data's: a transform that changed it is cut or padded.
        let n = data.len().min(len);
        out[12..12 + n].copy_from_slice(&data[..n]);
        out[12 + n..12 + len].fill(0);
        self.out.write_all(&out)
    }

    fn transformed<'d>(
        &mut self,
        data: &'d [u8],
        frame: Option<(u64, Timestamp, u32, u32)>,
    ) -> Cow<'d, [u8]> {
        match (&mut self.plan.transform, frame) {
            (Some(t), Some((number, time, linktype, orig_len))) => {
                let f = Frame {
                    number,
                    time,
                    linktype,
                    data,
                    orig_len,
                };
                t(&f)
            }
            _ => Cow::Borrowed(data),
        }
    }

    fn endian32(&self, v: u32) -> [u8; 4] {
        if self.section_big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16(&mut self, v: u16) {
        let b = if self.section_big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.scratch.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = self.endian32(v);
        self.scratch.extend_from_slice(&b);
    }

    fn pad(&mut self) {
        let n = pad4(self.scratch.len()) - self.scratch.len();
        self.scratch.extend_from_slice(&[0; 3][..n]);
    }

    fn option(&mut self, code: u16, value: &[u8]) {
        self.u16(code);
        self.u16(value.len() as u16);
        self.scratch.extend_from_slice(value);
        self.pad();
    }

    /// Starts a block in the scratch buffer (its length is filled in by [`Self::end`]).
    fn start(&mut self, kind: u32) {
        self.scratch.clear();
        self.u32(kind);
        self.u32(0);
    }

    fn end(&mut self) {
        let len = self.scratch.len() as u32 + 4;
        let b = self.endian32(len);
        self.scratch[4..8].copy_from_slice(&b);
        self.scratch.extend_from_slice(&b);
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.scratch)
    }
}

#[cfg(test)]
mod tests;
