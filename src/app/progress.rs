//! A progress line on standard error for captures that take more than a second to read:
//! frames, captured bytes, SIP messages, and how far through the file (estimated from the
//! bytes of the records read against the file's size; not for compressed files or
//! standard input). Only when standard error is a terminal; erased when the file is done.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Nothing is shown before this much time has passed.
const QUIET_FOR: Duration = Duration::from_secs(1);
/// Redrawn at most this often.
const EVERY: Duration = Duration::from_millis(250);
/// The clock is read once per this many frames.
const CHECK_EVERY_FRAMES: u64 = 4096;

/// Set when several files are read at once (`analyze --each`): their lines would
/// overwrite each other.
static SILENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// No progress line from now on.
pub(super) fn silence() {
    SILENT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Which reading of a file is under way: 2 while `analyze` of one file reads it a second
/// time (the whole capture contradicted what its calls were judged with); 0 or 1 for the
/// first.
static READING: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The next files are read as the `n`th reading (0: read once).
pub(super) fn reading(n: u8) {
    READING.store(n, std::sync::atomic::Ordering::Relaxed);
}

pub(super) struct Progress {
    path: String,
    started: Instant,
    quiet: Duration,
    last: Option<Instant>,
    /// File size, when a plain file is read.
    size: Option<u64>,
    bytes: u64,
    shown: bool,
}

impl Progress {
    /// A progress line for `path`, or `None` when standard error is not a terminal.
    pub(super) fn new(path: &str) -> Option<Progress> {
        if !std::io::stderr().is_terminal() || SILENT.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        // The quiet second can be shortened for tests (`SIPDIAG_PROGRESS_AFTER_MS`).
        let quiet = std::env::var("SIPDIAG_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(QUIET_FOR, Duration::from_millis);
        let compressed = path.ends_with(".gz");
        let size = (path != "-" && !compressed)
            .then(|| std::fs::metadata(path).ok().map(|m| m.len()))
            .flatten();
        let path = match READING.load(std::sync::atomic::Ordering::Relaxed) {
            0 | 1 => path.to_string(),
            _ => format!("{path} (second reading)"),
        };
        Some(Progress {
            path,
            started: Instant::now(),
            quiet,
            last: None,
            size,
            bytes: 0,
            shown: false,
        })
    }

    /// One frame of `len` captured bytes has been read; `messages` SIP messages so far.
    pub(super) fn frame(&mut self, number: u64, len: usize, messages: u64) {
        // A record header (16 bytes in pcap, about twice that in pcapng) per frame.
        self.bytes += len as u64 + 16;
        if !number.is_multiple_of(CHECK_EVERY_FRAMES) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started) < self.quiet
            || self.last.is_some_and(|l| now.duration_since(l) < EVERY)
        {
            return;
        }
        self.last = Some(now);
        let share = self
            .size
            .filter(|&s| s > 0)
            .map(|s| format!(", ~{} %", (self.bytes * 100 / s).min(99)))
            .unwrap_or_default();
        let line = format!(
            "{}: {number} frames, {} MB, {messages} SIP messages{share}",
            self.path,
            self.bytes / 1_000_000
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        self.shown = true;
    }

    /// Erases the line.
    pub(super) fn finish(self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
