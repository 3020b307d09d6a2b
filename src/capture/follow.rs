//! Stage 1, live: the bytes of a capture file that is still being written (`tcpdump -w`,
//! Wireshark's ring buffer), as a reader that waits for more instead of ending.
//!
//! Input: the path of the file and [`FollowOptions`]. Output: a [`Read`] (for
//! [`super::read_capture_following`]) that hands out bytes as the writer appends them and
//! ends (reads 0) only when the file is complete: the writer has moved on to the next file
//! of a rotated set ([`successor`]), nothing was appended for `until_idle`, or the user
//! asked the process to stop ([`stop_flag`]: Ctrl-C). Partial
//! records at the end of the file are normal here (the writer flushes in its own
//! chunks): the capture reader simply waits for the rest.
//!
//! Rotation: `tcpdump -C N -w cap.pcap` writes `cap.pcap`, `cap.pcap1`, `cap.pcap2`, …;
//! `-W` pads the number (`cap.pcap01`) and, as a ring, starts over at the first file;
//! `-G` names files by strftime patterns (`cap-%H%M%S.pcap`). The files of a set are those
//! in the same directory whose names differ from the current one in their numbers only
//! (or add a number to a name without one: `cap.pcap` → `cap.pcap1`). The next file is the one of them, written to after the current one was last
//! (a ring's files all exist from the first round on: an older one is last round's), that
//! comes next in natural order (digit runs compared as numbers), else the first such in
//! that order (the ring has wrapped). A writer that starts the next file has finished the
//! previous one, so the old file is read to its end once more and then left. A file that
//! shrinks under the reader was started over by its writer: it is read again from its
//! start, as a new file.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

/// Set when the user asks a reader of a growing input to end (the command installs it as
/// the handler of Ctrl-C and SIGTERM): the readers of files being written and of
/// interfaces then end at their next wait, as at `until_idle`, so that what was read is
/// still analysed and reported.
static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The flag that ends the waits of growing inputs (see `STOP`).
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(&STOP)
}

/// Whether the user asked the reading to end.
pub fn stop_requested() -> bool {
    STOP.load(AtomicOrdering::Relaxed)
}

/// How a followed file is waited on.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// Between two looks at a file that has not grown.
    pub poll: Duration,
    /// End when nothing was appended for this long and no next file exists (`None`:
    /// follow until the process is stopped).
    pub until_idle: Option<Duration>,
}

/// Called while a file waits for more bytes, with the time since bytes last came: what
/// lets a live analysis move its clock on when the capture is quiet.
pub type IdleHook = Box<dyn FnMut(Duration) + Send>;

/// A capture file read as it grows; see the module docs.
pub struct Follow {
    file: File,
    path: PathBuf,
    opts: FollowOptions,
    last_data: Instant,
    /// Bytes read so far (a file shorter than this was started over).
    read: u64,
    on_idle: Option<IdleHook>,
    /// Where the writer went on: set when this file was left for its successor.
    next: Arc<Mutex<Option<PathBuf>>>,
}

impl Follow {
    /// Opens `path` to follow it.
    pub fn open(path: &Path, opts: FollowOptions) -> io::Result<Follow> {
        Ok(Follow {
            file: File::open(path)?,
            path: path.to_path_buf(),
            opts,
            last_data: Instant::now(),
            read: 0,
            on_idle: None,
            next: Arc::default(),
        })
    }

    /// Calls `hook` at every wait (see [`IdleHook`]).
    pub fn on_idle(mut self, hook: IdleHook) -> Follow {
        self.on_idle = Some(hook);
        self
    }

    /// Where the next file of the set will be recorded once this one is left.
    pub fn next_file(&self) -> Arc<Mutex<Option<PathBuf>>> {
        Arc::clone(&self.next)
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.last_data = Instant::now();
                self.read += n as u64;
                return Ok(n);
            }
            let now = self.file.metadata()?;
            let next = if now.len() < self.read {
                // Started over (a ring of one file, a restarted writer): a new capture.
                Some(self.path.clone())
            } else {
                successor(&self.path)
            };
            if let Some(next) = next {
                // The writer has moved on: what it wrote last is read, then the file ends.
                let n = self.file.read(buf)?;
                if n > 0 {
                    self.read += n as u64;
                    return Ok(n);
                }
                *self.next.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
                return Ok(0);
            }
            let quiet = self.last_data.elapsed();
            if stop_requested() || self.opts.until_idle.is_some_and(|limit| quiet >= limit) {
                return Ok(0);
            }
            if let Some(hook) = self.on_idle.as_mut() {
                hook(quiet);
            }
            std::thread::sleep(self.opts.poll);
        }
    }
}

/// The file a rotating writer went on to after `path` (see the module docs), if it has.
pub fn successor(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let mine = std::fs::metadata(path).ok()?.modified().ok()?;
    let my_shape = shape(name);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Written to after this file was last: where the writer is now.
    let mut newer: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let Ok(other) = entry.file_name().into_string() else {
            continue;
        };
        let theirs = shape(&other);
        // The same name with other numbers, or this name with a number added
        // (`cap.pcap` → `cap.pcap1`).
        if other == name || (theirs != my_shape && theirs != format!("{my_shape}#")) {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.is_file() && meta.modified().is_ok_and(|t| t > mine) {
            newer.push(other);
        }
    }
    newer.sort_by(|a, b| natural_cmp(a, b));
    let next = newer
        .iter()
        .find(|o| natural_cmp(o, name) == Ordering::Greater)
        .or(newer.first())?;
    Some(dir.join(next))
}

/// A name with each run of digits written `#`: the files of a rotated set share it.
fn shape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

/// Compares names with their digit runs as numbers (`cap9` < `cap10`); equal numbers with
/// different padding compare by their text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (&a[..da], &b[..db]);
                let trim = |d: &[u8]| -> usize { d.iter().take_while(|c| **c == b'0').count() };
                let (ta, tb) = (&na[trim(na)..], &nb[trim(nb)..]);
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                match by_value.then_with(|| na.cmp(nb)) {
                    Ordering::Equal => {
                        a = &a[da..];
                        b = &b[db..];
                    }
                    other => return other,
                }
            }
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => {
                    a = &a[1..];
                    b = &b[1..];
                }
                other => return other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_with_numbers_as_numbers() {
        assert_eq!(natural_cmp("cap.pcap9", "cap.pcap10"), Ordering::Less);
        assert_eq!(natural_cmp("cap.pcap", "cap.pcap1"), Ordering::Less);
        assert_eq!(natural_cmp("cap.pcap01", "cap.pcap1"), Ordering::Less);
        assert_eq!(natural_cmp("a-0659.pcap", "a-0700.pcap"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }

    #[test]
    fn the_next_file_of_a_rotated_set() {
        let dir = std::env::temp_dir().join(format!("sipdiag-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Written in this order, each after the one before.
        let touch = |n: &str| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::write(dir.join(n), b"x").unwrap();
        };
        let next = |n: &str| successor(&dir.join(n)).map(|p| p.file_name().unwrap().to_owned());
        for n in [
            "cap.pcap",
            "cap.pcap1",
            "cap.pcap2",
            "cap.pcap10",
            "other.pcap",
            "cap.pcap3.txt",
        ] {
            touch(n);
        }
        assert_eq!(next("cap.pcap").unwrap(), "cap.pcap1");
        assert_eq!(next("cap.pcap2").unwrap(), "cap.pcap10");
        assert_eq!(next("cap.pcap10"), None, "the newest file of the set");
        assert_eq!(next("other.pcap"), None);
        // strftime names (-G), digits first.
        for n in ["0659-trunk.pcap", "0700-trunk.pcap", "0701-notes.txt"] {
            touch(n);
        }
        assert_eq!(next("0659-trunk.pcap").unwrap(), "0700-trunk.pcap");
        assert_eq!(next("0700-trunk.pcap"), None);
        // A ring (-W): last round's files are older; the writer wraps to the first.
        for n in ["ring0", "ring1", "ring2"] {
            touch(n);
        }
        assert_eq!(next("ring1").unwrap(), "ring2");
        touch("ring0");
        assert_eq!(next("ring2").unwrap(), "ring0", "wrapped");
        assert_eq!(next("ring0"), None, "ring1 and ring2 are last round's");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
