//! The index of a merged read: merged frame numbers → files and their frame numbers.
//!
//! It grows with the frames read: one entry per run of consecutive frames of one file
//! (two capture points that see each packet alternate at almost every frame: about one
//! per frame) and one per duplicate. Entries are kept in memory up to [`CHUNK`] of each
//! kind; the older ones are written to a temporary file in chunks of [`CHUNK`], of which
//! memory keeps only where each begins ([`Spill`]), so that memory stays flat whatever
//! the capture's length (24 bytes an entry on disk: the 100,000-call hour at two points,
//! about 50 MB). A lookup reads one chunk. Without a temporary directory the entries stay
//! in memory.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use super::{CitedFrame, Place};

/// Entries of each kind kept in memory, and written to disk at a time.
const CHUNK: usize = 1024;
/// Bytes of an entry on disk.
const ENTRY: usize = 24;

/// (key, file, frame): a run (its first merged number, the file, its frame there) or a
/// duplicate (the merged number of the packet handed on, where it was seen again).
type Entry = (u64, usize, u64);

/// Where a chunk written to disk begins and what it spans.
#[derive(Debug)]
struct ChunkMeta {
    /// The least and the greatest key (runs: the first is the least).
    min: u64,
    max: u64,
    /// Per file with an entry in the chunk: its first frame there.
    first_frame: Vec<(usize, u64)>,
}

/// The chunks written to disk (see the module docs).
#[derive(Debug)]
struct Spill {
    file: Mutex<std::fs::File>,
    chunks: Vec<ChunkMeta>,
    /// The chunk read last (lookups in report order often land in the same one).
    read: Mutex<Option<(usize, std::sync::Arc<[Entry]>)>>,
}

/// The entries of a chunk read back, or of those in memory.
enum Part<'a> {
    Read(std::sync::Arc<[Entry]>),
    Tail(&'a [Entry]),
}

impl std::ops::Deref for Part<'_> {
    type Target = [Entry];
    fn deref(&self) -> &[Entry] {
        match self {
            Part::Read(entries) => entries,
            Part::Tail(entries) => entries,
        }
    }
}

/// Entries in the order they were added: the latest in memory, the rest on disk.
#[derive(Debug, Default)]
struct Entries {
    tail: Vec<Entry>,
    spill: Option<Spill>,
    /// No temporary file could be made: everything stays in memory.
    in_memory: bool,
    last: Option<Entry>,
    len: u64,
}

impl Entries {
    fn push(&mut self, e: Entry) {
        self.tail.push(e);
        self.last = Some(e);
        self.len += 1;
        if self.tail.len() >= CHUNK && !self.in_memory && self.write_tail().is_err() {
            self.in_memory = true;
        }
    }

    /// Writes the entries in memory to disk as one chunk.
    fn write_tail(&mut self) -> std::io::Result<()> {
        let spill = match &mut self.spill {
            Some(s) => s,
            None => self.spill.insert(Spill {
                file: Mutex::new(tempfile::tempfile()?),
                chunks: Vec::new(),
                read: Mutex::new(None),
            }),
        };
        let mut bytes = Vec::with_capacity(self.tail.len() * ENTRY);
        let mut meta = ChunkMeta {
            min: u64::MAX,
            max: 0,
            first_frame: Vec::new(),
        };
        for &(key, file, frame) in &self.tail {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&(file as u64).to_le_bytes());
            bytes.extend_from_slice(&frame.to_le_bytes());
            meta.min = meta.min.min(key);
            meta.max = meta.max.max(key);
            if !meta.first_frame.iter().any(|&(f, _)| f == file) {
                meta.first_frame.push((file, frame));
            }
        }
        let mut f = spill.file.lock().unwrap_or_else(|e| e.into_inner());
        f.seek(SeekFrom::End(0))?;
        f.write_all(&bytes)?;
        drop(f);
        spill.chunks.push(meta);
        self.tail.clear();
        Ok(())
    }

    fn chunks(&self) -> &[ChunkMeta] {
        self.spill.as_ref().map_or(&[], |s| &s.chunks)
    }

    /// The entries of chunk `i` on disk (none when it cannot be read back).
    fn chunk(&self, i: usize) -> std::sync::Arc<[Entry]> {
        let Some(spill) = &self.spill else {
            return std::sync::Arc::new([]);
        };
        let mut read = spill.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, entries)) = &*read
            && *at == i
        {
            return std::sync::Arc::clone(entries);
        }
        let mut bytes = vec![0u8; CHUNK * ENTRY];
        let mut f = spill.file.lock().unwrap_or_else(|e| e.into_inner());
        let got = f
            .seek(SeekFrom::Start((i * CHUNK * ENTRY) as u64))
            .and_then(|_| f.read_exact(&mut bytes));
        if got.is_err() {
            return std::sync::Arc::new([]);
        }
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        let entries: std::sync::Arc<[Entry]> = (bytes.chunks_exact(ENTRY))
            .map(|e| (word(&e[..8]), word(&e[8..16]) as usize, word(&e[16..])))
            .collect();
        *read = Some((i, std::sync::Arc::clone(&entries)));
        entries
    }

    /// The entries of chunk `i` (`chunks().len()`: those in memory).
    fn part(&self, i: usize) -> Part<'_> {
        if i < self.chunks().len() {
            Part::Read(self.chunk(i))
        } else {
            Part::Tail(&self.tail)
        }
    }

    /// Entries sorted by key (runs): the last one whose key is at most `key`.
    fn at_or_before(&self, key: u64) -> Option<Entry> {
        let chunks = self.chunks();
        let i = match self.tail.first() {
            Some(first) if first.0 <= key => chunks.len(),
            _ => chunks.partition_point(|c| c.min <= key).checked_sub(1)?,
        };
        let part = self.part(i);
        let at = part.partition_point(|e| e.0 <= key).checked_sub(1)?;
        Some(part[at])
    }
}

/// Merged frame numbers → files and their frame numbers (see the module docs).
#[derive(Debug, Default)]
pub struct FrameIndex {
    pub(super) paths: Vec<String>,
    /// Runs of consecutive merged numbers that are consecutive frames of one file:
    /// (first merged number, file, its frame number there).
    runs: Entries,
    /// Packets handed on seen again at another capture point: (the merged number of the
    /// packet handed on, file, frame), up to [`super::MAX_ALIASES`].
    aliases: Entries,
    /// The capture point of each file (`None`: no frame read).
    pub(super) point_of: Vec<Option<usize>>,
    pub(super) points: usize,
    /// Packets dropped as seen at another point already.
    pub duplicates: u64,
    /// The files were read one after the other (`watch`), not merged by time.
    concatenated: bool,
}

impl FrameIndex {
    /// The index of files read one after the other, frames numbered through them (as
    /// `watch` reads a rotated set); files are added as they start.
    pub fn concatenated() -> Self {
        FrameIndex {
            concatenated: true,
            points: 1,
            ..FrameIndex::default()
        }
    }

    /// The index of `paths` merged by time before any frame is read (what
    /// [`super::read_merged`] fills in as it goes).
    pub fn merging(paths: &[String]) -> Self {
        FrameIndex {
            paths: paths.to_vec(),
            point_of: vec![None; paths.len()],
            ..FrameIndex::default()
        }
    }

    /// A file of a [`FrameIndex::concatenated`] read starts after `before` frames.
    pub fn push_file(&mut self, path: String, before: u64) {
        let file = self.paths.len();
        self.paths.push(path);
        self.point_of.push(Some(0));
        self.runs.push((before + 1, file, 1));
    }

    /// The index when it holds several files (frames are then numbered through them and
    /// cited by file), else `None`.
    pub fn several(&self) -> Option<&Self> {
        (self.paths.len() > 1).then_some(self)
    }

    /// Whether the files were read one after the other rather than merged by time.
    pub fn is_concatenated(&self) -> bool {
        self.concatenated
    }

    /// Merged frame `merged` is frame `frame` of file `file`.
    pub(super) fn push(&mut self, merged: u64, file: usize, frame: u64) {
        if let Some((m, f, n)) = self.runs.last
            && f == file
            && n + (merged - m) == frame
        {
            return;
        }
        self.runs.push((merged, file, frame));
    }

    /// The packet handed on as merged frame `kept` was seen again as frame `frame` of
    /// file `file`.
    pub(super) fn alias(&mut self, kept: u64, file: usize, frame: u64) {
        if self.aliases.len < super::MAX_ALIASES as u64 {
            self.aliases.push((kept, file, frame));
        }
    }

    /// Where merged frame `merged` came from.
    pub fn locate(&self, merged: u64) -> Option<Place> {
        let (m, file, frame) = self.runs.at_or_before(merged)?;
        Some(Place {
            file,
            frame: frame + (merged - m),
        })
    }

    /// The merged number of frame `frame` of file `file` (what [`FrameIndex::locate`]
    /// undoes), for what a file's reader reported in its own numbers.
    pub fn merged_number(&self, file: usize, frame: u64) -> Option<u64> {
        // A file's frames come in order: its run that holds `frame` is the last of its
        // runs that begin at or before it, in the last part where one does.
        let in_tail = (self.runs.tail.iter()).any(|&(_, f, n)| f == file && n <= frame);
        let chunks = self.runs.chunks();
        let i = if in_tail {
            chunks.len()
        } else {
            (chunks.iter()).rposition(|c| {
                (c.first_frame.iter()).any(|&(f, first)| f == file && first <= frame)
            })?
        };
        let part = self.runs.part(i);
        let at = part
            .iter()
            .rposition(|&(_, f, n)| f == file && n <= frame)?;
        let (m, _, n) = part[at];
        let next = match part.get(at + 1) {
            Some(&e) => Some(e),
            None if i < chunks.len() => self.runs.part(i + 1).first().copied(),
            None => None,
        };
        let len = next.map_or(u64::MAX, |next| next.0 - m);
        (frame - n < len).then(|| m + (frame - n))
    }

    /// Every sighting of merged frame `merged`: where it was handed on from, then where
    /// the same packet was seen at other capture points.
    pub fn cited(&self, merged: u64) -> Vec<Place> {
        let mut v: Vec<Place> = self.locate(merged).into_iter().collect();
        let chunks = self.aliases.chunks();
        for i in 0..=chunks.len() {
            if chunks
                .get(i)
                .is_some_and(|c| merged < c.min || merged > c.max)
            {
                continue;
            }
            let seen = self.aliases.part(i);
            v.extend(
                (seen.iter())
                    .filter(|e| e.0 == merged)
                    .map(|&(_, file, frame)| Place { file, frame }),
            );
        }
        v
    }

    /// Names the files as reports show them (`shown` of each path, in the same order):
    /// under `--redact`, a file's name is not shown.
    pub fn show_paths_as(&mut self, shown: impl Fn(&str) -> String) {
        for p in &mut self.paths {
            *p = shown(p);
        }
    }

    /// [`FrameIndex::cited`] with file names.
    pub fn cited_frames(&self, merged: u64) -> Vec<CitedFrame> {
        self.cited(merged)
            .into_iter()
            .map(|p| CitedFrame {
                capture: self.paths.get(p.file).cloned().unwrap_or_default(),
                frame: p.frame,
            })
            .collect()
    }

    /// Capture points found (rotated files of one point count once).
    pub fn points(&self) -> usize {
        self.points
    }

    /// The capture point of each file, in the order given (`None`: nothing read).
    pub fn point_of(&self) -> &[Option<usize>] {
        &self.point_of
    }

    pub fn paths(&self) -> &[String] {
        &self.paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of two files whose frames alternate in runs of 1 to 3 frames, with a
    /// duplicate of every fifth frame, `frames` in all.
    fn alternating(frames: u64) -> (FrameIndex, Vec<Place>) {
        let mut index = FrameIndex::merging(&["a".into(), "b".into()]);
        let mut places = Vec::new();
        let mut next = [1u64, 1];
        let mut file = 0;
        let mut merged = 0;
        while merged < frames {
            for _ in 0..(1 + merged % 3) {
                merged += 1;
                index.push(merged, file, next[file]);
                places.push(Place {
                    file,
                    frame: next[file],
                });
                if merged.is_multiple_of(5) {
                    index.alias(merged, 1 - file, 1000 + merged);
                }
                next[file] += 1;
            }
            file = 1 - file;
        }
        (index, places)
    }

    /// Held in memory or mostly on disk, the index answers alike: every frame located,
    /// found back from its file's number, and cited with its duplicate.
    #[test]
    fn an_index_on_disk_answers_as_in_memory() {
        let frames = (20 * CHUNK) as u64;
        let (index, places) = alternating(frames);
        assert!(index.runs.chunks().len() >= 10, "written to disk");
        assert!(!index.aliases.chunks().is_empty());
        assert!(index.runs.tail.len() < CHUNK);
        let mut held = FrameIndex::default();
        held.runs.in_memory = true;
        held.aliases.in_memory = true;
        for (i, p) in places.iter().enumerate() {
            let merged = i as u64 + 1;
            held.push(merged, p.file, p.frame);
            if merged.is_multiple_of(5) {
                held.alias(merged, 1 - p.file, 1000 + merged);
            }
        }
        assert!(held.runs.chunks().is_empty());
        for (i, p) in places.iter().enumerate() {
            let merged = i as u64 + 1;
            assert_eq!(index.locate(merged), Some(*p), "{merged}");
            assert_eq!(index.merged_number(p.file, p.frame), Some(merged));
            let cited = index.cited(merged);
            assert_eq!(cited, held.cited(merged), "{merged}");
            assert_eq!(cited.len(), if merged.is_multiple_of(5) { 2 } else { 1 });
        }
        assert_eq!(index.locate(0), None);
        // Past a file's last frame (the other's come after it): none.
        let other = 1 - places.last().unwrap().file;
        let last = places
            .iter()
            .filter(|p| p.file == other)
            .map(|p| p.frame)
            .max();
        assert_eq!(index.merged_number(other, last.unwrap() + 1), None);
        assert_eq!(index.merged_number(2, 1), None);
    }
}
