//! Rows that are finished out of order, written out in order in bounded memory.
//!
//! A row is filed under a key (its place in the listing) when it is finished; the caller
//! says, as it goes, below which key no row is still to come ([`Ordered::release`]), and
//! the rows below it come out in key order. A row waits while one that goes before it
//! is in progress: a call that lasts the whole capture holds back every row after its
//! own. So the waiting rows are kept in memory only up to [`MEMORY_BYTES`]; past that
//! they go to a run file as one sorted run, and rows come out of a merge of the runs and
//! what is in memory. Memory is then a read buffer per run, whatever the wait; and as
//! [`FAN_IN`] runs of one size make one run of the next (an external merge sort's
//! levels), the runs are a few dozen at most: fifteen per sixteen-fold growth of the
//! rows that wait. Each row is written once per level (three times for 4 GiB of rows).
//!
//! Input: (key, bytes) in any order, and the keys below which rows may come out.
//! Output: the bytes, in key order (rows with the same key in the order they came), to
//! the caller's function.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::spool::SpoolFile;

/// Bytes of waiting rows held in memory before they go to a run.
pub(crate) const MEMORY_BYTES: usize = 1 << 19;

/// Runs of one level merged into one run of the next.
const FAN_IN: usize = 16;

/// Bytes of merged rows written to the run file at a time.
const WRITE_BYTES: usize = 64 << 10;

/// Bytes read at a time from each run.
const READ_BYTES: usize = 16 << 10;

/// A record's header in a run: key, arrival number, length.
const HEADER: usize = 8 + 8 + 4;

/// Rows in order; see the module docs.
pub(crate) struct Ordered {
    /// Waiting rows in memory, by (key, arrival).
    waiting: BTreeMap<(u64, u64), Vec<u8>>,
    waiting_bytes: usize,
    /// Rows waiting, in memory and in runs.
    waiting_rows: usize,
    arrivals: u64,
    /// Runs of waiting rows on disk, each sorted.
    runs: Vec<Run>,
    file: Option<SpoolFile>,
    memory_bytes: usize,
}

/// A sorted run in the run file: its next record (read ahead) and where the rest is.
struct Run {
    /// 0 for a run spilled from memory, one more for each merge it went through.
    level: u8,
    head: Option<((u64, u64), Vec<u8>)>,
    /// File offset of the bytes after `buf`, and of the run's end.
    at: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Default for Ordered {
    fn default() -> Self {
        Ordered::with_memory(MEMORY_BYTES)
    }
}

impl Ordered {
    /// Rows held in memory up to `memory_bytes` before they go to a run.
    pub(crate) fn with_memory(memory_bytes: usize) -> Self {
        Ordered {
            waiting: BTreeMap::new(),
            waiting_bytes: 0,
            waiting_rows: 0,
            arrivals: 0,
            runs: Vec::new(),
            file: None,
            memory_bytes,
        }
    }

    /// Files the row `bytes` under `key`.
    pub(crate) fn push(&mut self, key: u64, bytes: Vec<u8>) -> io::Result<()> {
        self.waiting_bytes += bytes.len() + HEADER;
        self.waiting.insert((key, self.arrivals), bytes);
        self.arrivals += 1;
        self.waiting_rows += 1;
        if self.waiting_bytes > self.memory_bytes {
            self.spill()?;
        }
        Ok(())
    }

    /// Hands the rows below `below` to `out`, in key order.
    pub(crate) fn release(
        &mut self,
        below: u64,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.release_while(|k| k < below, out)
    }

    /// Hands the rows whose keys follow on from `next` (`next`, `next + 1`, …) to `out`,
    /// moving `next` on past them.
    pub(crate) fn release_from(
        &mut self,
        next: &mut u64,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.release_while(
            |k| {
                let due = k == *next;
                *next += u64::from(due);
                due
            },
            out,
        )
    }

    /// Rows waiting, in memory and in runs.
    pub(crate) fn len(&self) -> usize {
        self.waiting_rows
    }

    /// Hands rows to `out` in key order while `more` takes the next row's key.
    fn release_while(
        &mut self,
        mut more: impl FnMut(u64) -> bool,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        loop {
            // The smallest of memory's first and each run's head.
            let run = smallest_head(&self.runs);
            let (best, from_run) = match (self.waiting.keys().next().copied(), run) {
                (Some(m), Some((k, _))) if m < k => (Some(m), None),
                (_, Some((k, i))) => (Some(k), Some(i)),
                (m, None) => (m, None),
            };
            let Some(key) = best.filter(|k| more(k.0)) else {
                break;
            };
            self.waiting_rows -= 1;
            match from_run {
                None => {
                    let bytes = self.waiting.remove(&key).unwrap_or_default();
                    self.waiting_bytes -= bytes.len() + HEADER;
                    out(&bytes)?;
                }
                Some(i) => {
                    let file = self.file.as_mut().map(SpoolFile::file);
                    let run = &mut self.runs[i];
                    if let Some((_, bytes)) = run.head.take() {
                        out(&bytes)?;
                    }
                    if let Some(f) = file {
                        run.advance(f)?;
                    }
                    if run.head.is_none() {
                        self.runs.remove(i);
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs on disk.
    #[cfg(test)]
    fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The rows in memory become a sorted run at the end of the run file.
    fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(SpoolFile::new("runs")?),
        };
        let start = file.len()?;
        let w = file.append()?;
        for (at, bytes) in std::mem::take(&mut self.waiting) {
            write_record(w, at, &bytes)?;
        }
        self.waiting_bytes = 0;
        self.runs.push(Run::open(0, start, file)?);
        let mut level = 0;
        while self.runs.iter().filter(|r| r.level == level).count() >= FAN_IN {
            self.merge(level)?;
            level += 1;
        }
        Ok(())
    }

    /// The runs of `level` become one run of the next level, at the end of the run file.
    fn merge(&mut self, level: u8) -> io::Result<()> {
        let file = self.file.as_mut().expect("runs are in the run file");
        let (mut parts, rest) = std::mem::take(&mut self.runs)
            .into_iter()
            .partition::<Vec<Run>, _>(|r| r.level == level);
        self.runs = rest;
        let start = file.len()?;
        let mut chunk = Vec::with_capacity(WRITE_BYTES + READ_BYTES);
        while let Some((_, i)) = smallest_head(&parts) {
            if let Some((at, bytes)) = parts[i].head.take() {
                write_record(&mut chunk, at, &bytes)?;
            }
            parts[i].advance(file.file())?;
            if chunk.len() >= WRITE_BYTES {
                file.append()?.write_all(&chunk)?;
                chunk.clear();
            }
        }
        file.append()?.write_all(&chunk)?;
        self.runs.push(Run::open(level + 1, start, file)?);
        Ok(())
    }
}

/// The smallest head among `runs`, and its run's index (the first run on a tie).
fn smallest_head(runs: &[Run]) -> Option<((u64, u64), usize)> {
    (runs.iter().enumerate())
        .filter_map(|(i, r)| Some((r.head.as_ref()?.0, i)))
        .min()
}

/// A row as a run holds it: key, arrival number, length, bytes.
fn write_record(w: &mut impl Write, (key, arrival): (u64, u64), bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
    w.write_all(&key.to_le_bytes())?;
    w.write_all(&arrival.to_le_bytes())?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(bytes)
}

impl Run {
    /// The run of `level` written from `start` to the end of `file`, its first row read.
    fn open(level: u8, start: u64, file: &mut SpoolFile) -> io::Result<Run> {
        let mut run = Run {
            level,
            head: None,
            at: start,
            end: file.len()?,
            buf: Vec::new(),
            pos: 0,
        };
        run.advance(file.file())?;
        Ok(run)
    }

    /// Reads the next record into `head` (`None` at the run's end).
    fn advance(&mut self, file: io::Result<&std::fs::File>) -> io::Result<()> {
        let file = file?;
        self.head = None;
        if !self.fill(file, HEADER)? {
            return Ok(());
        }
        let b = &self.buf[self.pos..];
        let key = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let arrival = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(b[16..20].try_into().expect("4 bytes")) as usize;
        self.pos += HEADER;
        if !self.fill(file, len)? {
            return Err(io::Error::other("a run of the row spool ends inside a row"));
        }
        let bytes = self.buf[self.pos..self.pos + len].to_vec();
        self.pos += len;
        self.head = Some(((key, arrival), bytes));
        Ok(())
    }

    /// Makes `need` bytes available at `pos`; false at the run's end.
    fn fill(&mut self, mut file: &std::fs::File, need: usize) -> io::Result<bool> {
        use std::io::{Read, Seek};
        if self.buf.len() - self.pos >= need {
            return Ok(true);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let want = need.max(READ_BYTES) - self.buf.len();
        let left = (self.end - self.at) as usize;
        let n = want.min(left);
        if self.buf.len() + n < need {
            return Ok(false);
        }
        let at = self.buf.len();
        self.buf.resize(at + n, 0);
        // The run file's writer moves its position back to the end before it writes.
        file.seek(io::SeekFrom::Start(self.at))?;
        file.read_exact(&mut self.buf[at..])?;
        self.at += n as u64;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows pushed in a scrambled order with the bound moving up, in memory and through
    /// runs (a tiny memory): the same rows, in key order, each released once its bound
    /// has passed it.
    #[test]
    fn rows_come_out_in_key_order_through_memory_and_runs() {
        for memory in [MEMORY_BYTES, 64] {
            let mut o = Ordered::with_memory(memory);
            let out = std::cell::RefCell::new(Vec::<u64>::new());
            let mut take = |b: &[u8]| {
                out.borrow_mut()
                    .push(std::str::from_utf8(b).unwrap().parse().unwrap());
                Ok(())
            };
            // Key 0 is finished last: everything waits for it.
            let keys: Vec<u64> = (1..500u64).map(|k| (k * 7919) % 499 + 1).collect();
            for (i, k) in keys.iter().enumerate() {
                o.push(*k, k.to_string().into_bytes()).unwrap();
                if i % 50 == 0 {
                    o.release(0, &mut take).unwrap();
                }
            }
            if memory == 64 {
                // About 180 runs spilled, merged sixteen by sixteen: eleven runs of
                // the first merge's level, a few of the spill's.
                assert!((2..2 * FAN_IN).contains(&o.runs()), "{} runs", o.runs());
                assert!(o.runs.iter().any(|r| r.level == 1), "merged");
            }
            o.push(0, b"0".to_vec()).unwrap();
            o.release(250, &mut take).unwrap();
            assert_eq!(*out.borrow(), (0..250).collect::<Vec<_>>());
            o.push(600, b"600".to_vec()).unwrap();
            o.push(550, b"550".to_vec()).unwrap();
            o.release(u64::MAX, &mut take).unwrap();
            let out = out.into_inner();
            assert_eq!(out.len(), 502);
            assert!(out.windows(2).all(|w| w[0] < w[1]), "in order");
            assert_eq!(out.last(), Some(&600));
        }
    }

    /// Keys that follow on from one another come out as soon as the gap before them is
    /// filled, from memory or from runs.
    #[test]
    fn consecutive_keys_come_out_when_the_gap_fills() {
        for memory in [MEMORY_BYTES, 16] {
            let mut o = Ordered::with_memory(memory);
            let mut out = Vec::new();
            let mut next = 0;
            for k in [3u64, 1, 2, 5, 0, 4, 7] {
                o.push(k, vec![k as u8]).unwrap();
                o.release_from(&mut next, &mut |b: &[u8]| {
                    out.push(b[0]);
                    Ok(())
                })
                .unwrap();
                if k == 5 {
                    assert_eq!(o.len(), 4, "1, 2, 3 and 5 wait for 0");
                }
            }
            assert_eq!(out, [0, 1, 2, 3, 4, 5]);
            assert_eq!((next, o.len()), (6, 1), "7 waits for 6");
        }
    }

    /// Rows under the same key keep the order they came in, in memory and through runs
    /// and their merges.
    #[test]
    fn equal_keys_keep_their_order() {
        for memory in [30, MEMORY_BYTES] {
            let mut o = Ordered::with_memory(memory);
            let mut out = Vec::new();
            let rows: Vec<String> = (0..200).map(|n| format!("{n}")).collect();
            for s in &rows {
                o.push(5, s.as_bytes().to_vec()).unwrap();
            }
            if memory == 30 {
                assert!(o.runs.iter().any(|r| r.level > 0), "runs were merged");
            }
            o.release(u64::MAX, &mut |b: &[u8]| {
                out.push(String::from_utf8(b.to_vec()).unwrap());
                Ok(())
            })
            .unwrap();
            assert_eq!(out, rows);
        }
    }
}
