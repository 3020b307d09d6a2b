//! Damage in a capture, reported rather than raised: records cut by snaplen, pcapng
//! blocks too large to buffer, a file cut short, an absurd record length, a read error.
//!
//! Stage: capture. Input: what the reader met. Output: [`Anomaly`]s for the
//! [`super::CaptureSummary`].

use std::io;

use super::{Anomaly, MAX_BLOCK};

/// pcapng blocks passed over for their size: how many, the largest, and after (or, for a
/// packet block, at) which frames.
#[derive(Default)]
pub(super) struct BigBlocks {
    count: u64,
    largest: usize,
    frames: Vec<u64>,
}

impl BigBlocks {
    pub(super) fn add(&mut self, frame: u64, len: usize) {
        self.count += 1;
        self.largest = self.largest.max(len);
        if self.frames.len() < 10 {
            self.frames.push(frame);
        }
    }

    pub(super) fn anomaly(&self) -> Option<Anomaly> {
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

pub(super) fn truncated(frames: u64) -> Anomaly {
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

pub(super) fn too_large(frames: u64, needed: usize) -> Anomaly {
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
pub(super) fn read_cause(e: Option<(io::ErrorKind, String)>, gzip: bool) -> String {
    match e {
        Some((io::ErrorKind::UnexpectedEof, _)) if gzip => {
            "the gzip-compressed data ends early: the file was cut short (an interrupted copy or download?)".to_string()
        }
        Some((_, msg)) if gzip => format!("the gzip-compressed data is damaged ({msg})"),
        Some((_, msg)) => msg,
        None => "the input could not be read".to_string(),
    }
}

pub(super) fn read_error(frames: u64, cause: &str) -> Anomaly {
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
pub(super) struct CutCounter {
    count: u64,
    first: Vec<u64>,
}

impl CutCounter {
    pub(super) fn add(&mut self, frame: u64) {
        self.count += 1;
        if self.first.len() < 10 {
            self.first.push(frame);
        }
    }

    pub(super) fn anomaly(&self) -> Option<Anomaly> {
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
