//! Reading the records of a pcap or pcapng file (pcap-parser streams both through one
//! loop): frames numbered as Wireshark numbers them, timestamps per pcapng interface,
//! records as stored for rewriting, and damage turned into anomalies.
//!
//! Stage: capture. Input: the reader from [`super::input`]. Output: [`Frame`]s and
//! [`StoredBlock`]s to callbacks, the [`CaptureSummary`].

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

use super::anomalies::{BigBlocks, CutCounter, read_cause, read_error, too_large, truncated};
use super::detect::recognise;
use super::input::{FirstBytes, Input, open_input, wrap_input};
use super::{
    Anomaly, CaptureError, CaptureFormat, CaptureSummary, Frame, INITIAL_BUFFER, MAX_BLOCK,
    StoredBlock, Timestamp,
};

/// Per-interface facts of a pcapng section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Units per second.
    resolution: u64,
    offset: i64,
}

/// [`read_capture`](super::read_capture), also handing every record as stored to
/// `on_block`, in file order, right after `on_frame` saw the frame it holds.
pub fn read_capture_blocks(
    path: &str,
    on_frame: impl FnMut(&Frame<'_>),
    on_block: impl FnMut(StoredBlock<'_>),
) -> Result<CaptureSummary, CaptureError> {
    read_input(path, open_input(path)?, on_frame, on_block)
}

/// [`super::read_capture`] of a file that is still being written, through a reader that
/// waits for its bytes ([`super::follow::Follow`]): the frames are handed on as they are
/// appended.
pub fn read_capture_following(
    path: &str,
    follow: super::follow::Follow,
    on_frame: impl FnMut(&Frame<'_>),
) -> Result<CaptureSummary, CaptureError> {
    let input = wrap_input(path, Box::new(follow), true)?;
    read_input(path, input, on_frame, |_| {})
}

/// The time of the first frame of the capture file at `path`, read no further than its
/// first buffer; `None` when it has none, cannot be read, or is input that can be read
/// only once (standard input, a named pipe: looking would consume it).
pub fn first_frame_time(path: &str) -> Option<Timestamp> {
    if super::once::read_once(path) {
        return None;
    }
    let (inner, gzip, cut) = open_input(path).ok()?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let input = StopAt {
        inner,
        stop: std::sync::Arc::clone(&stop),
    };
    let mut first = None;
    let _ = read_input(
        path,
        (Box::new(input), gzip, cut),
        |f| {
            first.get_or_insert(f.time);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        },
        |_| {},
    );
    first
}

/// A reader that ends (reads nothing more) once `stop` is set.
struct StopAt {
    inner: Box<dyn std::io::Read + Send>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::io::Read for StopAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(0);
        }
        self.inner.read(buf)
    }
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
