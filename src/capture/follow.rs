//! Stage 1, live: the bytes of a capture file that is still being written (`tcpdump -w`,
//! Wireshark's ring buffer), as a reader that waits for more instead of ending.
//!
//! Input: the path of the file and [`FollowOptions`]. Output: a [`Read`] (for
//! [`super::read_capture_following`]) that hands out bytes as the writer appends them and
//! ends (reads 0) only when the file is complete: the writer has moved on to the next file
//! of a rotated set ([`successor`]), or nothing was appended for `until_idle`. Partial
//! records at the end of the file are normal here (the writer flushes in its own
//! chunks): the capture reader simply waits for the rest.
//!
//! Rotation: `tcpdump -C N -w cap.pcap` writes `cap.pcap`, `cap.pcap1`, `cap.pcap2`, …;
//! `-W` pads the number (`cap.pcap01`); `-G` names files by strftime patterns
//! (`cap-%H%M%S.pcap`). The next file of a set is the one in the same directory whose name
//! shares the current name's text up to its first digit and comes next in natural order
//! (digit runs compared as numbers). A writer that starts the next file has finished the
//! previous one, so the old file is read to its end once more and then left.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
                return Ok(n);
            }
            if let Some(next) = successor(&self.path) {
                // The writer has moved on: what it wrote last is read, then the file ends.
                let n = self.file.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                *self.next.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
                return Ok(0);
            }
            let quiet = self.last_data.elapsed();
            if self.opts.until_idle.is_some_and(|limit| quiet >= limit) {
                return Ok(0);
            }
            if let Some(hook) = self.on_idle.as_mut() {
                hook(quiet);
            }
            std::thread::sleep(self.opts.poll);
        }
    }
}

/// The file a rotating writer starts after `path` (see the module docs), if it exists yet.
pub fn successor(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem_len = name
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(name.len());
    let stem = &name[..stem_len];
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut best: Option<String> = None;
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let Ok(other) = entry.file_name().into_string() else {
            continue;
        };
        if !other.starts_with(stem)
            || natural_cmp(&other, name) != Ordering::Greater
            || !entry.file_type().is_ok_and(|t| t.is_file())
        {
            continue;
        }
        if best
            .as_deref()
            .is_none_or(|b| natural_cmp(&other, b) == Ordering::Less)
        {
            best = Some(other);
        }
    }
    best.map(|b| dir.join(b))
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
        let touch = |n: &str| std::fs::write(dir.join(n), b"").unwrap();
        for n in [
            "cap.pcap",
            "cap.pcap1",
            "cap.pcap10",
            "cap.pcap2",
            "other.pcap",
        ] {
            touch(n);
        }
        let next = |n: &str| successor(&dir.join(n)).map(|p| p.file_name().unwrap().to_owned());
        assert_eq!(next("cap.pcap").unwrap(), "cap.pcap1");
        assert_eq!(next("cap.pcap2").unwrap(), "cap.pcap10");
        assert_eq!(next("cap.pcap10"), None);
        assert_eq!(next("other.pcap"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
