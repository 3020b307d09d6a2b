//! Stage 1: capture file → [`Frame`].
//!
//! Input: a path (or `-` for standard input) holding a classic pcap (either byte order,
//! micro- or nanosecond), a pcapng (any number of sections and interfaces, each with its
//! own link type and `if_tsresol`), or either of them gzip-compressed (detected by the
//! magic bytes, not by the name).
//!
//! Output: every packet record as a [`Frame`], numbered 1-based in file order exactly as
//! Wireshark numbers its frames, handed to a callback while the bytes still sit in the
//! reader's buffer (no copy, no allocation per frame). pcapng records that Wireshark lists
//! as frames without being packets (systemd journal entries, custom blocks) take their
//! numbers too, and are not handed on.
//!
//! Invariants: memory is bounded by the largest block (capped at [`MAX_BLOCK`]); damage in
//! the file ends the read with an [`Anomaly`] in the [`CaptureSummary`] instead of an
//! error, so everything read before the damage is still analysed. Only a file that cannot
//! be opened or is not a capture at all is an error ([`CaptureError`]).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use serde::Serialize;

pub mod follow;
pub mod merge;
pub mod rewrite;
pub mod time;
pub use time::Timestamp;

/// Initial size of the streaming buffer.
const INITIAL_BUFFER: usize = 1 << 20;
/// The largest block sipdiag accepts; a record claiming more is treated as corruption
/// (libpcap itself caps snaplen at 256 KiB; pcapng writers stay far below this).
pub const MAX_BLOCK: usize = 64 << 20;

/// One packet record of the capture file.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number, as in Wireshark.
    pub number: u64,
    pub time: Timestamp,
    /// Link-layer header type (LINKTYPE_* value) of the interface the frame was captured on.
    pub linktype: u32,
    /// The captured bytes (may be shorter than `orig_len` when cut by snaplen).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

impl Frame<'_> {
    /// True when the capture cut this packet short (snaplen).
    pub fn is_cut(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// Container format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Pcapng => "pcapng",
        })
    }
}

/// Something wrong in the capture itself, reported rather than raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Anomaly {
    /// Stable machine-readable kind, e.g. `truncated`, `corrupt-record`, `snaplen-cut`.
    pub kind: &'static str,
    /// Human-readable description naming where it happened.
    pub message: String,
    /// Frames concerned (the last good frame for a truncation), 1-based.
    pub frames: Vec<u64>,
    /// How many times it happened (frames or events).
    pub count: u64,
    /// The flow concerned (source, destination), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<(std::net::SocketAddr, std::net::SocketAddr)>,
}

/// What reading a capture produced besides the frames.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureSummary {
    pub path: String,
    pub format: CaptureFormat,
    /// `true` when the file was gzip-compressed.
    pub gzip: bool,
    /// Frames as Wireshark counts them (packets, journal entries, custom blocks).
    pub frames: u64,
    pub anomalies: Vec<Anomaly>,
}

/// The capture could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    // The cause is part of the message rather than a `source`: printed with `{:#}` a
    // source would repeat it ("…(os error 2): …(os error 2)").
    #[error("{path}: cannot open: {cause}")]
    Open { path: String, cause: io::Error },
    #[error("{path}: empty file, not a capture")]
    Empty { path: String },
    #[error("{path}: not a pcap or pcapng capture: {what} (magic {magic}); {advice}")]
    NotCapture {
        path: String,
        magic: String,
        /// What the first bytes look like, and what to do about it.
        what: &'static str,
        advice: &'static str,
    },
    #[error("{path}: cannot read: {cause}")]
    Read { path: String, cause: String },
}

/// What a file that is not a capture is, by its first bytes, and what to do about it: the
/// formats support engineers are sent instead of a pcap/pcapng.
fn recognise(head: &[u8]) -> (&'static str, &'static str) {
    const RESAVE: &str = "open it in Wireshark and save it as pcapng";
    const UNPACK: &str = "unpack it and give sipdiag the capture inside";
    const KNOWN: &[(&[u8], &str, &str)] = &[
        (b"GMBU", "a Microsoft Network Monitor 2.x capture", RESAVE),
        (b"RTSS", "a Microsoft Network Monitor 1.x capture", RESAVE),
        (b"snoop\0\0\0", "a Solaris snoop capture", RESAVE),
        (b"TRSNIFF data", "a Sniffer capture", RESAVE),
        (b"XCP\0", "a NetXray capture", RESAVE),
        (b"PK\x03\x04", "a ZIP archive", UNPACK),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed", UNPACK),
        (b"\xfd7zXZ\0", "xz-compressed", UNPACK),
        (b"BZh", "bzip2-compressed", UNPACK),
    ];
    if let Some(&(_, what, advice)) = KNOWN.iter().find(|(m, _, _)| head.starts_with(m)) {
        return (what, advice);
    }
    let text = head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    if text {
        return (
            "text (a log or an exported dissection?)",
            "send the capture file itself (Wireshark: File > Save As pcapng; tcpdump -w)",
        );
    }
    ("unknown format", "save it from Wireshark as pcap or pcapng")
}

/// Opens `path` (`-` = standard input), undoing gzip compression when the magic says so.
/// The first bytes are read to look at the magic and handed back in front of the rest,
/// so the capture bytes are copied only once, into the reader's buffer.
/// The input as a reader, whether it is gzip-compressed, and (for gzip) the flag that
/// [`CutShort`] raises when the compressed data ends early.
type Input = (
    Box<dyn Read + Send>,
    bool,
    Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
);

fn open_input(path: &str) -> Result<Input, CaptureError> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        let file = File::open(Path::new(path)).map_err(|cause| CaptureError::Open {
            path: path.to_string(),
            cause,
        })?;
        Box::new(file)
    };
    wrap_input(path, raw, false)
}

/// Whether `head` holds the whole file header: a pcap header, or a pcapng Section Header
/// Block to its declared length.
fn header_complete(head: &[u8]) -> bool {
    if let [0x0a, 0x0d, 0x0d, 0x0a, l0, l1, l2, l3, bom @ ..] = head
        && bom.len() >= 4
    {
        let len = [*l0, *l1, *l2, *l3];
        let len = if bom[..4] == [0x4d, 0x3c, 0x2b, 0x1a] {
            u32::from_le_bytes(len)
        } else {
            u32::from_be_bytes(len)
        };
        return head.len() >= len as usize;
    }
    head.len() >= 24 && !head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a])
}

/// [`open_input`] on a reader already open. `live`: the reader waits for bytes that are
/// still being written (see [`follow`]), so the head is read only until the file header
/// is complete, not until 64 KiB have come.
fn wrap_input(
    path: &str,
    mut raw: Box<dyn Read + Send>,
    live: bool,
) -> Result<Input, CaptureError> {
    // pcap-parser decides on its first read; give it a whole header's worth at once.
    let mut head = vec![0u8; 1 << 16];
    let mut n = 0;
    while n < head.len() && !(live && header_complete(&head[..n])) {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(CaptureError::Read {
                    path: path.to_string(),
                    cause: e.to_string(),
                });
            }
        }
    }
    head.truncate(n);
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let input = io::Cursor::new(head).chain(raw);
    if gzip {
        let buffered = io::BufReader::with_capacity(1 << 16, input);
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = CutShort {
            inner: flate2::bufread::MultiGzDecoder::new(buffered),
            produced: 0,
            cut: std::sync::Arc::clone(&cut),
        };
        Ok((Box::new(reader), true, Some(cut)))
    } else {
        Ok((Box::new(input), false, None))
    }
}

/// gzip data that ends early (a `.gz` capture cut short in copying) ends the decompressed
/// stream there instead of failing it, so that the frames before the cut are read, as for
/// an uncompressed capture cut short; `cut` records that it happened. A cut before any
/// decompressed byte stays an error: there is no capture to read.
struct CutShort<R> {
    inner: R,
    produced: u64,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for CutShort<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.produced += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.produced > 0 => {
                self.cut.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

/// A reader that keeps a copy of the first 64 bytes it hands out, and the last read error
/// (pcap-parser reports only that reading failed, not why). (Reading those bytes ahead
/// and chaining them back in front would not do: pcap-parser decides on its first read,
/// which must be the whole head `open_input` buffered.)
///
/// It also skips, unread, the rest of a pcapng block too large for the reader's buffer
/// (`skip` bytes still to pass over, set by [`read_capture`]).
struct FirstBytes<R> {
    inner: R,
    first: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    error: std::sync::Arc<std::sync::Mutex<Option<(io::ErrorKind, String)>>>,
    skip: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for FirstBytes<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        while self.skip.load(Relaxed) > 0 && !buf.is_empty() {
            let want = buf
                .len()
                .min(usize::try_from(self.skip.load(Relaxed)).unwrap_or(usize::MAX));
            let n = self.inner.read(&mut buf[..want])?;
            if n == 0 {
                return Ok(0);
            }
            self.skip.fetch_sub(n as u64, Relaxed);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                *self.error.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((e.kind(), e.to_string()));
                return Err(e);
            }
        };
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        let room = 64usize.saturating_sub(first.len()).min(n);
        first.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}

/// Per-interface facts of a pcapng section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Units per second.
    resolution: u64,
    offset: i64,
}

/// Reads the capture at `path` and calls `on_frame` for every packet record, in order.
///
/// Returns the summary (format, frame count, anomalies) or an error when the input is not
/// a capture at all. Damage part-way through is an anomaly, never an error.
pub fn read_capture(
    path: &str,
    on_frame: impl FnMut(&Frame<'_>),
) -> Result<CaptureSummary, CaptureError> {
    read_capture_blocks(path, on_frame, |_| {})
}

/// One record of the file as stored, for writing it out again (see `capture::rewrite`).
#[derive(Debug, Clone, Copy)]
pub struct StoredBlock<'a> {
    /// The bytes of the whole block (pcapng) or record with its header (pcap), or the
    /// 24-byte file header of a pcap.
    pub bytes: &'a [u8],
    /// The frame number the block took (packets, journal entries, custom blocks).
    pub frame: Option<u64>,
    /// A classic pcap file header or record (else a pcapng block).
    pub legacy: bool,
    /// The byte order of the file (pcap) or of the section (pcapng).
    pub big_endian: bool,
}

/// [`read_capture`], also handing every record as stored to `on_block`, in file order,
/// right after `on_frame` saw the frame it holds.
pub fn read_capture_blocks(
    path: &str,
    on_frame: impl FnMut(&Frame<'_>),
    on_block: impl FnMut(StoredBlock<'_>),
) -> Result<CaptureSummary, CaptureError> {
    read_input(path, open_input(path)?, on_frame, on_block)
}

/// [`read_capture`] of a file that is still being written, through a reader that waits
/// for its bytes ([`follow::Follow`]): the frames are handed on as they are appended.
pub fn read_capture_following(
    path: &str,
    follow: follow::Follow,
    on_frame: impl FnMut(&Frame<'_>),
) -> Result<CaptureSummary, CaptureError> {
    let input = wrap_input(path, Box::new(follow), true)?;
    read_input(path, input, on_frame, |_| {})
}

fn read_input(
    path: &str,
    (input, gzip, gzip_cut): Input,
    mut on_frame: impl FnMut(&Frame<'_>),
    mut on_block: impl FnMut(StoredBlock<'_>),
) -> Result<CaptureSummary, CaptureError> {
    // The first bytes as read, to name what the input is when it is not a capture (the
    // input cannot be read again: standard input is consumed).
    let first = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(64)));
    let error = std::sync::Arc::new(std::sync::Mutex::new(None));
    let skip = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let input = FirstBytes {
        inner: input,
        first: std::sync::Arc::clone(&first),
        error: std::sync::Arc::clone(&error),
        skip: std::sync::Arc::clone(&skip),
    };
    // Why the last read failed, in words, e.g. a gzip file cut short.
    let cause = || {
        let e = error.lock().unwrap_or_else(|e| e.into_inner()).take();
        read_cause(e, gzip)
    };
    let mut reader = match pcap_parser::create_reader(INITIAL_BUFFER, input) {
        Ok(r) => r,
        Err(PcapError::Eof) => {
            return Err(CaptureError::Empty {
                path: path.to_string(),
            });
        }
        Err(PcapError::ReadError) => {
            return Err(CaptureError::Read {
                path: path.to_string(),
                cause: cause(),
            });
        }
        Err(_) => {
            let head = std::mem::take(&mut *first.lock().unwrap_or_else(|e| e.into_inner()));
            let n = head.len();
            if n == 0 {
                return Err(CaptureError::Empty {
                    path: path.to_string(),
                });
            }
            let magic = head[..n.min(4)]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>();
            let (what, advice) = recognise(&head[..n]);
            return Err(CaptureError::NotCapture {
                path: path.to_string(),
                magic,
                what,
                advice,
            });
        }
    };

    let mut summary = CaptureSummary {
        path: path.to_string(),
        format: CaptureFormat::Pcap,
        gzip,
        frames: 0,
        anomalies: Vec::new(),
    };
    let mut legacy_linktype = 0u32;
    let mut legacy_nanos = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut last_time = Timestamp::default();
    let mut cut = CutCounter::default();
    let mut big_blocks = BigBlocks::default();
    let mut capacity = INITIAL_BUFFER;
    let mut stalled = 0u32;
    let mut big_endian = false;
    let mut legacy_big_endian = false;

    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = 0;
                let frames_before = summary.frames;
                let legacy = matches!(
                    block,
                    PcapBlockOwned::LegacyHeader(_) | PcapBlockOwned::Legacy(_)
                );
                let frame = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        summary.format = CaptureFormat::Pcap;
                        legacy_linktype = h.network.0 as u32;
                        legacy_nanos = h.is_nanosecond_precision();
                        legacy_big_endian = h.is_bigendian();
                        None
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if legacy_nanos {
                            b.ts_usec
                        } else {
                            b.ts_usec.saturating_mul(1000)
                        };
                        let caplen = (b.caplen as usize).min(b.data.len());
                        Some((
                            Timestamp::new(i64::from(b.ts_sec), frac),
                            legacy_linktype,
                            &b.data[..caplen],
                            b.origlen,
                        ))
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(ref shb)) => {
                        summary.format = CaptureFormat::Pcapng;
                        big_endian = shb.big_endian();
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        let resolution = pcap_parser::build_ts_resolution(idb.if_tsresol)
                            .filter(|r| *r > 0)
                            .unwrap_or(1_000_000);
                        interfaces.push(Interface {
                            linktype: idb.linktype.0 as u32,
                            resolution,
                            offset: idb.if_tsoffset,
                        });
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let iface = interfaces.get(epb.if_id as usize).copied();
                        let (linktype, time) = match iface {
                            Some(i) => (
                                i.linktype,
                                Timestamp::from_units(
                                    (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
                                    i.resolution,
                                    i.offset,
                                ),
                            ),
                            None => (u32::MAX, last_time),
                        };
                        let caplen = (epb.caplen as usize).min(epb.data.len());
                        Some((time, linktype, &epb.data[..caplen], epb.origlen))
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let linktype = interfaces.first().map_or(u32::MAX, |i| i.linktype);
                        let len = (spb.origlen as usize).min(spb.data.len());
                        Some((last_time, linktype, &spb.data[..len], spb.origlen))
                    }
                    PcapBlockOwned::NG(Block::Unknown(ref u)) if u.block_type == 2 => {
                        // Obsolete Packet Block (pcapng draft): Wireshark numbers it as a frame.
                        obsolete_packet(u.data, big_endian, &interfaces, last_time)
                    }
                    PcapBlockOwned::NG(Block::SystemdJournalExport(_) | Block::Custom(_)) => {
                        // Records, not packets: Wireshark numbers them as frames (a journal
                        // entry, a custom block), so the packets after them are numbered on.
                        summary.frames += 1;
                        None
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((time, linktype, data, orig_len)) = frame {
                    summary.frames += 1;
                    last_time = time;
                    let f = Frame {
                        number: summary.frames,
                        time,
                        linktype,
                        data,
                        orig_len,
                    };
                    if f.is_cut() {
                        cut.add(f.number);
                    }
                    on_frame(&f);
                }
                on_block(StoredBlock {
                    bytes: &reader.data()[..offset],
                    frame: (summary.frames != frames_before).then_some(summary.frames),
                    legacy,
                    big_endian: if legacy {
                        legacy_big_endian
                    } else {
                        big_endian
                    },
                });
                // No shift per record: `refill` moves the unread tail to the front once
                // per buffer, instead of `consume` moving half a buffer every few records.
                reader.consume_noshift(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(needed)) => {
                let before = reader.data().len();
                if reader.refill().is_err() {
                    summary.anomalies.push(read_error(summary.frames, &cause()));
                    break;
                }
                if reader.reader_exhausted() {
                    // The next call reports a clean end, or a truncated last record.
                    continue;
                }
                if reader.data().len() == before {
                    // No progress although the source is not drained: the buffer is full.
                    stalled += 1;
                    if stalled > 3 || !grow(&mut *reader, &mut capacity, before + needed.max(4096))
                    {
                        summary.anomalies.push(too_large(summary.frames, needed));
                        break;
                    }
                }
            }
            Err(PcapError::BufferTooSmall) => {
                // Grow to what the pending record claims, unless that is absurd.
                let claimed = match summary.format {
                    CaptureFormat::Pcap => legacy_caplen(reader.data(), legacy_big_endian)
                        .map(|l| l.saturating_add(16)),
                    CaptureFormat::Pcapng => reader.data().get(4..8).map(|b| {
                        let b = [b[0], b[1], b[2], b[3]];
                        (if big_endian {
                            u32::from_be_bytes(b)
                        } else {
                            u32::from_le_bytes(b)
                        }) as usize
                    }),
                };
                if summary.format == CaptureFormat::Pcapng
                    && let Some(len) = claimed.filter(|l| *l > MAX_BLOCK && l % 4 == 0)
                {
                    // A well-formed block larger than sipdiag buffers (a huge packet or a
                    // custom block): passed over unread, numbered if it is a packet.
                    let data = reader.data();
                    let t = [data[0], data[1], data[2], data[3]];
                    let block_type = if big_endian {
                        u32::from_be_bytes(t)
                    } else {
                        u32::from_le_bytes(t)
                    };
                    let have = data.len();
                    reader.consume(have);
                    skip.store((len - have) as u64, std::sync::atomic::Ordering::Relaxed);
                    if matches!(block_type, 2 | 3 | 6 | 0x0000_0bad | 0x4000_0bad | 9) {
                        summary.frames += 1;
                    }
                    big_blocks.add(summary.frames, len);
                    if reader.refill().is_err() {
                        summary.anomalies.push(read_error(summary.frames, &cause()));
                        break;
                    }
                    continue;
                }
                let want = claimed.unwrap_or(capacity * 2).max(capacity + 1);
                if want > MAX_BLOCK || !grow(&mut *reader, &mut capacity, want) {
                    summary.anomalies.push(too_large(summary.frames, want));
                    break;
                }
                if reader.refill().is_err() {
                    summary.anomalies.push(read_error(summary.frames, &cause()));
                    break;
                }
            }
            Err(PcapError::UnexpectedEof) => {
                let absurd = legacy_caplen(reader.data(), legacy_big_endian)
                    .filter(|len| summary.format == CaptureFormat::Pcap && *len > MAX_BLOCK);
                summary.anomalies.push(match absurd {
                    Some(len) => too_large(summary.frames, len),
                    None => truncated(summary.frames),
                });
                break;
            }
            Err(PcapError::ReadError) => {
                summary.anomalies.push(read_error(summary.frames, &cause()));
                break;
            }
            Err(e) => {
                let what = match e {
                    PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => {
                        format!("{k:?}")
                    }
                    _ => "unrecognised block".to_string(),
                };
                summary.anomalies.push(Anomaly {
                    kind: "corrupt-record",
                    message: format!(
                        "corrupt record after frame {} (byte offset {}, {what}); the rest of the file was not read",
                        summary.frames,
                        reader.consumed()
                    ),
                    frames: vec![summary.frames],
                    count: 1,
                    flow: None,
                });
                break;
            }
        }
    }
    if let Some(a) = cut.anomaly() {
        summary.anomalies.push(a);
    }
    if let Some(a) = big_blocks.anomaly() {
        summary.anomalies.push(a);
    }
    let gzip_cut = gzip_cut.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
    if gzip_cut {
        // Say why the capture ends where it does; a record cut in half is already told.
        match summary.anomalies.iter_mut().find(|a| a.kind == "truncated") {
            Some(a) => {
                a.message = format!(
                    "the gzip-compressed data ends early, in the middle of a record after frame {}: the file was cut short (an interrupted copy or download?)",
                    summary.frames
                )
            }
            None => summary.anomalies.push(Anomaly {
                message: format!(
                    "the gzip-compressed data ends early after frame {}: the file was cut short (an interrupted copy or download?)",
                    summary.frames
                ),
                ..truncated(summary.frames)
            }),
        }
    }
    Ok(summary)
}

/// The captured length a classic pcap record header claims, if 16 bytes are there.
fn legacy_caplen(data: &[u8], big_endian: bool) -> Option<usize> {
    let b: [u8; 4] = data.get(8..12)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    } as usize)
}

fn grow(reader: &mut dyn PcapReaderIterator, capacity: &mut usize, want: usize) -> bool {
    if want > MAX_BLOCK || *capacity >= MAX_BLOCK {
        return false;
    }
    let new = want.max(*capacity * 2).min(MAX_BLOCK);
    if reader.grow(new) {
        *capacity = new;
        true
    } else {
        false
    }
}

fn obsolete_packet<'a>(
    data: &'a [u8],
    big_endian: bool,
    interfaces: &[Interface],
    last_time: Timestamp,
) -> Option<(Timestamp, u32, &'a [u8], u32)> {
    if data.len() < 20 {
        return None;
    }
    let u16_at = |o: usize| {
        let b = [data[o], data[o + 1]];
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32_at = |o: usize| {
        let b = [data[o], data[o + 1], data[o + 2], data[o + 3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let iface = interfaces.get(usize::from(u16_at(0))).copied();
    let caplen = (u32_at(12) as usize).min(data.len() - 20);
    let orig = u32_at(16);
    let (linktype, time) = match iface {
        Some(i) => (
            i.linktype,
            Timestamp::from_units(
                (u64::from(u32_at(4)) << 32) | u64::from(u32_at(8)),
                i.resolution,
                i.offset,
            ),
        ),
        None => (u32::MAX, last_time),
    };
    Some((time, linktype, &data[20..20 + caplen], orig))
}

/// pcapng blocks passed over for their size: how many, the largest, and after (or, for a
/// packet block, at) which frames.
#[derive(Default)]
struct BigBlocks {
    count: u64,
    largest: usize,
    frames: Vec<u64>,
}

impl BigBlocks {
    fn add(&mut self, frame: u64, len: usize) {
        self.count += 1;
        self.largest = self.largest.max(len);
        if self.frames.len() < 10 {
            self.frames.push(frame);
        }
    }

    fn anomaly(&self) -> Option<Anomaly> {
        (self.count > 0).then(|| Anomaly {
            kind: "block-too-large",
            message: format!(
                "{} pcapng block(s) larger than the {} MiB read buffer (the largest {} bytes), first at frame {}, skipped unread; the frames after them were read",
                self.count,
                MAX_BLOCK >> 20,
                self.largest,
                self.frames[0]
            ),
            frames: self.frames.clone(),
            count: self.count,
            flow: None,
        })
    }
}

fn truncated(frames: u64) -> Anomaly {
    Anomaly {
        kind: "truncated",
        message: format!(
            "the file ends in the middle of a record after frame {frames} (capture cut short, e.g. an interrupted tcpdump)"
        ),
        frames: vec![frames],
        count: 1,
        flow: None,
    }
}

fn too_large(frames: u64, needed: usize) -> Anomaly {
    Anomaly {
        kind: "corrupt-record",
        message: format!(
            "record after frame {frames} claims {needed} bytes or more (over the {} MiB limit); the rest of the file was not read",
            MAX_BLOCK >> 20
        ),
        frames: vec![frames],
        count: 1,
        flow: None,
    }
}

/// What a failed read means to the reader of the report.
fn read_cause(e: Option<(io::ErrorKind, String)>, gzip: bool) -> String {
    match e {
        Some((io::ErrorKind::UnexpectedEof, _)) if gzip => {
            "the gzip-compressed data ends early: the file was cut short (an interrupted copy or download?)".to_string()
        }
        Some((_, msg)) if gzip => format!("the gzip-compressed data is damaged ({msg})"),
        Some((_, msg)) => msg,
        None => "the input could not be read".to_string(),
    }
}

fn read_error(frames: u64, cause: &str) -> Anomaly {
    Anomaly {
        kind: "read-error",
        message: format!("read error after frame {frames} ({cause}); the rest was not read"),
        frames: vec![frames],
        count: 1,
        flow: None,
    }
}

/// Counts snaplen-cut frames, remembering the first few for evidence.
#[derive(Default)]
struct CutCounter {
    count: u64,
    first: Vec<u64>,
}

impl CutCounter {
    fn add(&mut self, frame: u64) {
        self.count += 1;
        if self.first.len() < 10 {
            self.first.push(frame);
        }
    }

    fn anomaly(&self) -> Option<Anomaly> {
        (self.count > 0).then(|| Anomaly {
            kind: "snaplen-cut",
            message: format!(
                "{} frame(s) were cut short by the capture's snaplen (first: frame {}); capture with -s 0",
                self.count, self.first[0]
            ),
            frames: self.first.clone(),
            count: self.count,
            flow: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn pcap_header(linktype: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&linktype.to_le_bytes());
        v
    }

    fn record(v: &mut Vec<u8>, sec: u32, data: &[u8]) {
        v.extend_from_slice(&sec.to_le_bytes());
        v.extend_from_slice(&7u32.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
    }

    fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn pcapng_block(v: &mut Vec<u8>, block_type: u32, body: &[u8]) {
        let len = (12 + body.len().div_ceil(4) * 4) as u32;
        v.extend_from_slice(&block_type.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(body);
        v.resize(v.len() + (4 - body.len() % 4) % 4, 0);
        v.extend_from_slice(&len.to_le_bytes());
    }

    fn epb(v: &mut Vec<u8>, data: &[u8]) {
        let mut body = Vec::with_capacity(20 + data.len());
        body.extend_from_slice(&0u32.to_le_bytes()); // interface
        body.extend_from_slice(&0u32.to_le_bytes()); // timestamp high
        body.extend_from_slice(&1u32.to_le_bytes()); // timestamp low
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        pcapng_block(v, 6, &body);
    }

    #[test]
    fn valid_pcapng_block_over_the_buffer_is_skipped_not_called_damaged() {
        let mut v = Vec::new();
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        pcapng_block(&mut v, 0x0a0d_0d0a, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        pcapng_block(&mut v, 1, &idb);
        epb(&mut v, &[1; 60]);
        epb(&mut v, &vec![2; MAX_BLOCK + 4096]);
        epb(&mut v, &[3; 60]);
        let f = write_tmp(&v);
        let mut seen = Vec::new();
        let s = read_capture(f.path().to_str().unwrap(), |fr| {
            seen.push((fr.number, fr.data[0]))
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![(1, 1), (3, 3)],
            "the frame after the big one is read"
        );
        assert_eq!(s.frames, 3, "numbered as Wireshark does");
        let kinds: Vec<_> = s.anomalies.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["block-too-large"]);
        assert_eq!(s.anomalies[0].frames, vec![2]);
    }

    #[test]
    fn numbers_frames_from_one() {
        let mut v = pcap_header(1);
        record(&mut v, 10, &[1, 2, 3]);
        record(&mut v, 11, &[4, 5]);
        let f = write_tmp(&v);
        let mut seen = Vec::new();
        let s = read_capture(f.path().to_str().unwrap(), |fr| {
            seen.push((fr.number, fr.time.secs, fr.data.to_vec()))
        })
        .unwrap();
        assert_eq!(s.frames, 2);
        assert!(s.anomalies.is_empty());
        assert_eq!(seen[0], (1, 10, vec![1, 2, 3]));
        assert_eq!(seen[1], (2, 11, vec![4, 5]));
    }

    #[test]
    fn truncated_file_keeps_earlier_frames() {
        let mut v = pcap_header(1);
        record(&mut v, 10, &[1; 100]);
        record(&mut v, 11, &[2; 100]);
        v.truncate(v.len() - 30);
        let f = write_tmp(&v);
        let mut n = 0;
        let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
        assert_eq!(n, 1);
        assert_eq!(s.anomalies[0].kind, "truncated");
        assert_eq!(s.anomalies[0].frames, vec![1]);
    }

    #[test]
    fn absurd_record_length_is_reported_not_allocated() {
        let mut v = pcap_header(1);
        record(&mut v, 10, &[1; 10]);
        let mut bad = Vec::new();
        record(&mut bad, 11, &[2; 10]);
        bad[8..12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        v.extend_from_slice(&bad);
        let f = write_tmp(&v);
        let mut n = 0;
        let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
        assert_eq!(n, 1);
        assert_eq!(s.anomalies.len(), 1, "{:?}", s.anomalies);
    }

    #[test]
    fn text_and_empty_files_are_errors() {
        let f = write_tmp(b"hello, this is not a capture at all\n");
        let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
        assert!(matches!(e, CaptureError::NotCapture { .. }), "{e}");
        assert!(e.to_string().contains("text (a log"), "{e}");
        let f = write_tmp(b"");
        let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
        assert!(matches!(e, CaptureError::Empty { .. }), "{e}");
    }

    #[test]
    fn other_capture_formats_are_named() {
        for (bytes, says) in [
            (
                &b"GMBU\x00\x02\x01\x00\x00\x00\x00\x00"[..],
                "Network Monitor 2.x",
            ),
            (&b"snoop\0\0\0\0\0\0\x02\0\0\0\x04"[..], "snoop"),
            (&b"PK\x03\x04\x14\0\0\0"[..], "ZIP"),
            (
                &b"\x00\x01\x02\x03\xfe\xff"[..],
                "unknown format (magic 00010203)",
            ),
        ] {
            let f = write_tmp(bytes);
            let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
            assert!(matches!(e, CaptureError::NotCapture { .. }), "{e}");
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg}");
            assert!(msg.contains("pcap"), "{msg}");
        }
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        let mut v = pcap_header(1);
        record(&mut v, 10, &[9; 40]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&v).unwrap();
        let f = write_tmp(&gz.finish().unwrap());
        let mut n = 0;
        let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
        assert!(s.gzip);
        assert_eq!(n, 1);
    }
}
