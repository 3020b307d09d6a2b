//! Opening the input: a file or standard input (`-`), gzip undone when the magic bytes
//! say so (a `.gz` cut short ends the stream rather than failing it), and a reader that
//! keeps the first bytes and the last read error for the messages of [`super::CaptureError`]
//! and [`super::Anomaly`], and passes over pcapng blocks too large to buffer.
//!
//! Stage: capture. Input: a path. Output: a byte reader for pcap-parser.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::CaptureError;

/// Opens `path` (`-` = standard input), undoing gzip compression when the magic says so.
/// The first bytes are read to look at the magic and handed back in front of the rest,
/// so the capture bytes are copied only once, into the reader's buffer.
/// The input as a reader, whether it is gzip-compressed, and (for gzip) the flag that
/// [`CutShort`] raises when the compressed data ends early.
pub(super) type Input = (
    Box<dyn Read + Send>,
    bool,
    Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
);

pub(super) fn open_input(path: &str) -> Result<Input, CaptureError> {
    let opened = if super::once::read_once(path) {
        super::once::open_once(path)
    } else {
        File::open(Path::new(path)).map(|f| Box::new(f) as Box<dyn Read + Send>)
    };
    let raw = opened.map_err(|cause| CaptureError::Open {
        path: path.to_string(),
        cause,
    })?;
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
/// still being written (see [`super::follow`]), so the head is read only until the file
/// header is complete, not until 64 KiB have come.
pub(super) fn wrap_input(
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
pub(super) struct CutShort<R> {
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
/// (`skip` bytes still to pass over, set by [`read_capture`](super::read_capture)).
pub(super) struct FirstBytes<R> {
    pub(super) inner: R,
    pub(super) first: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    pub(super) error: std::sync::Arc<std::sync::Mutex<Option<(io::ErrorKind, String)>>>,
    pub(super) skip: std::sync::Arc<std::sync::atomic::AtomicU64>,
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
