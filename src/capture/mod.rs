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
//!
//! The parts: opening the input, gzip and standard input (`input`), input that can be read
//! only once kept for further readings (`once`), the record loop for
//! pcap and pcapng (`reader`), the anomalies it reports (`anomalies`), naming what a
//! file that is not a capture is (`detect`), and a file still being written, read as it
//! grows ([`follow`]).

use std::fmt;
use std::io;

use serde::Serialize;

mod anomalies;
mod detect;
pub mod follow;
mod input;
#[cfg(feature = "live")]
pub mod live;
pub mod merge;
mod once;
mod reader;
pub mod rewrite;
#[cfg(test)]
mod tests;
pub mod time;
pub use once::{input_kept, keep_input, read_once};
pub use reader::{first_frame_time, read_capture_blocks, read_capture_following};
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
