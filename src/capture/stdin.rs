//! Standard input read more than once: when a command may need a second reading (an
//! `analyze` whose capture contradicts what its first calls were judged with, the ladders
//! and annotations read after the report, a focus found on a first reading), it asks for
//! standard input to be kept ([`keep_stdin`]) before reading it. The first reading of `-`
//! then copies every byte it takes into an anonymous temporary file (removed by the system
//! when the process ends), and every later reading of `-` reads that copy from its start,
//! ending as the first ended (with its read error, if standard input failed). Memory stays
//! that of one reading; the copy takes the capture's size on disk.
//!
//! Without the request, `-` is standard input itself, read once (a second reading finds it
//! empty), and nothing is written to disk.
//!
//! Stage: capture. Input: standard input. Output: readers of its bytes for
//! [`super::input`].

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What is kept of standard input.
enum Kept {
    /// Not kept: `-` is standard input itself. `read`: a reading has begun (a later one
    /// finds what the first left); `why_not`: keeping it was asked and failed.
    Plain { read: bool, why_not: Option<String> },
    /// Asked: the next reading copies the input into this file as it goes.
    Ready(File),
    /// The first reading is under way.
    Copying,
    /// Read once and copied whole: `len` bytes, and how the reading ended (`None` at the
    /// end of the input; else the read error, as its kind and text).
    Copied {
        file: Arc<File>,
        len: u64,
        end: Option<(io::ErrorKind, String)>,
    },
    /// The copy could not be written (the cause): a second reading cannot be served.
    Lost(String),
}

/// The process's standard input, as kept.
static STDIN: Mutex<Kept> = Mutex::new(Kept::Plain {
    read: false,
    why_not: None,
});

fn lock(kept: &Mutex<Kept>) -> MutexGuard<'_, Kept> {
    kept.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Asks that standard input be kept for further readings (see the module docs); call it
/// before the first reading. Whether it will be: `false` when no temporary file could be
/// made, or standard input was already read without being kept.
pub fn keep_stdin() -> bool {
    keep(&STDIN, tempfile::tempfile)
}

/// Whether standard input is kept (or will be, as it is first read): `-` can then be read
/// again.
pub fn stdin_kept() -> bool {
    matches!(
        *lock(&STDIN),
        Kept::Ready(_) | Kept::Copying | Kept::Copied { .. }
    )
}

fn keep(kept: &Mutex<Kept>, make: impl FnOnce() -> io::Result<File>) -> bool {
    let mut k = lock(kept);
    match &*k {
        Kept::Plain {
            read: false,
            why_not: None,
        } => match make() {
            Ok(file) => {
                *k = Kept::Ready(file);
                true
            }
            Err(e) => {
                *k = Kept::Plain {
                    read: false,
                    why_not: Some(format!("no temporary file for a copy of it: {e}")),
                };
                false
            }
        },
        Kept::Plain { .. } | Kept::Lost(_) => false,
        Kept::Ready(_) | Kept::Copying | Kept::Copied { .. } => true,
    }
}

/// A reading of standard input (`-`): the input itself, copied as it goes when it is
/// kept and read for the first time, else its copy.
pub(super) fn open_stdin() -> io::Result<Box<dyn Read + Send>> {
    open(&STDIN, io::stdin)
}

fn open<R: Read + Send + 'static>(
    kept: &'static Mutex<Kept>,
    input: impl FnOnce() -> R,
) -> io::Result<Box<dyn Read + Send>> {
    let mut k = lock(kept);
    match std::mem::replace(&mut *k, Kept::Copying) {
        Kept::Plain {
            read: true,
            why_not: Some(cause),
        } => {
            let e = cannot_read_again(&cause);
            *k = Kept::Plain {
                read: true,
                why_not: Some(cause),
            };
            Err(e)
        }
        Kept::Plain { why_not, .. } => {
            *k = Kept::Plain {
                read: true,
                why_not,
            };
            Ok(Box::new(input()))
        }
        Kept::Ready(file) => Ok(Box::new(Copying {
            input: input(),
            copy: Some(BufWriter::with_capacity(1 << 16, file)),
            len: 0,
            end: None,
            lost: None,
            kept,
        })),
        Kept::Copying => Err(io::Error::other(
            "standard input is still being read by its first reading",
        )),
        Kept::Copied { file, len, end } => {
            let reader = CopyReader {
                file: Arc::clone(&file),
                pos: 0,
                len,
                end: end.clone(),
            };
            *k = Kept::Copied { file, len, end };
            Ok(Box::new(reader))
        }
        Kept::Lost(cause) => {
            let e = cannot_read_again(&cause);
            *k = Kept::Lost(cause);
            Err(e)
        }
    }
}

fn cannot_read_again(cause: &str) -> io::Error {
    io::Error::other(format!(
        "standard input was read once and cannot be read again ({cause}); save the capture to a file and give its name"
    ))
}

/// The first reading of a kept input: each byte read is written to the copy.
struct Copying<R> {
    input: R,
    /// `None` once a write failed (`lost` says why).
    copy: Option<BufWriter<File>>,
    len: u64,
    end: Option<(io::ErrorKind, String)>,
    lost: Option<String>,
    kept: &'static Mutex<Kept>,
}

impl<R: Read> Read for Copying<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.input.read(buf) {
            Ok(n) => {
                if let Some(copy) = &mut self.copy
                    && let Err(e) = copy.write_all(&buf[..n])
                {
                    self.lost = Some(format!("writing its copy failed: {e}"));
                    self.copy = None;
                }
                self.len += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.end = Some((e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

impl<R> Drop for Copying<R> {
    /// The first reading is over, wherever it stopped: what it took is the input from
    /// now on.
    fn drop(&mut self) {
        let copied = match self.copy.take().map(BufWriter::into_inner) {
            Some(Ok(file)) => Ok(file),
            Some(Err(e)) => Err(format!("writing its copy failed: {}", e.error())),
            None => Err(self.lost.take().unwrap_or_default()),
        };
        *lock(self.kept) = match copied {
            Ok(file) => Kept::Copied {
                file: Arc::new(file),
                len: self.len,
                end: self.end.take(),
            },
            Err(cause) => Kept::Lost(cause),
        };
    }
}

/// A later reading: the copy from its start, each reading at its own position.
struct CopyReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
    end: Option<(io::ErrorKind, String)>,
}

impl Read for CopyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len - self.pos;
        if left == 0 {
            return match &self.end {
                Some((kind, text)) => Err(io::Error::new(*kind, text.clone())),
                None => Ok(0),
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = read_at(&self.file, &mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the copy of standard input is shorter than what was read",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state of its own for each test (the process's is shared by every test).
    fn state() -> &'static Mutex<Kept> {
        Box::leak(Box::new(Mutex::new(Kept::Plain {
            read: false,
            why_not: None,
        })))
    }

    fn read_all(mut r: Box<dyn Read + Send>) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_kept_input_reads_the_same_every_time() {
        let kept = state();
        assert!(keep(kept, tempfile::tempfile));
        let data = bytes(200_000);
        let first = open(kept, || io::Cursor::new(data.clone())).unwrap();
        assert_eq!(read_all(first), (data.clone(), None));
        for _ in 0..3 {
            let again = open(kept, || -> io::Cursor<Vec<u8>> { panic!("read once") }).unwrap();
            assert_eq!(read_all(again), (data.clone(), None));
        }
    }

    #[test]
    fn two_later_readings_each_keep_their_place() {
        let kept = state();
        assert!(keep(kept, tempfile::tempfile));
        let data = bytes(100);
        read_all(open(kept, || io::Cursor::new(data.clone())).unwrap());
        let mut a = open(kept, io::empty).unwrap();
        let mut b = open(kept, io::empty).unwrap();
        let mut x = [0u8; 40];
        a.read_exact(&mut x).unwrap();
        assert_eq!(x[..], data[..40]);
        b.read_exact(&mut x).unwrap();
        assert_eq!(x[..], data[..40]);
        a.read_exact(&mut x).unwrap();
        assert_eq!(x[..], data[40..80]);
    }

    /// A first reading that stops early (damage found) leaves what it took: later readings
    /// end where it ended.
    #[test]
    fn a_first_reading_stopped_early_is_what_later_ones_read() {
        let kept = state();
        assert!(keep(kept, tempfile::tempfile));
        let data = bytes(1000);
        let mut first = open(kept, || io::Cursor::new(data.clone())).unwrap();
        let mut x = [0u8; 300];
        first.read_exact(&mut x).unwrap();
        drop(first);
        assert_eq!(read_all(open(kept, io::empty).unwrap()).0, data[..300]);
    }

    /// An input that failed fails again at the same place, with the same error.
    #[test]
    fn a_read_error_comes_again_where_it_came() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "pipe broke"));
                }
                let n = buf.len().min(self.0);
                buf[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let kept = state();
        assert!(keep(kept, tempfile::tempfile));
        let first = read_all(open(kept, || Failing(20)).unwrap());
        assert_eq!(first, (vec![7; 20], Some("pipe broke".to_string())));
        let again = open(kept, io::empty).unwrap();
        assert_eq!(read_all(again), first);
    }

    #[test]
    fn not_kept_it_is_read_once() {
        let kept = state();
        let data = bytes(50);
        assert_eq!(
            read_all(open(kept, || io::Cursor::new(data.clone())).unwrap()).0,
            data
        );
        // What the first reading left: here nothing.
        let again = open(kept, || io::Cursor::new(Vec::new())).unwrap();
        assert_eq!(read_all(again).0, Vec::<u8>::new());
        assert!(!keep(kept, tempfile::tempfile), "too late to keep it");
    }

    #[test]
    fn no_temporary_file_no_second_reading() {
        let kept = state();
        assert!(!keep(kept, || Err(io::Error::other("disk full"))));
        assert!(
            !keep(kept, tempfile::tempfile),
            "asked once, refused for good"
        );
        let data = bytes(50);
        assert_eq!(
            read_all(open(kept, || io::Cursor::new(data.clone())).unwrap()).0,
            data
        );
        let e = open(kept, io::empty).err().expect("refused");
        assert!(e.to_string().contains("disk full"), "{e}");
        assert!(e.to_string().contains("save the capture to a file"), "{e}");
    }

    #[test]
    fn a_copy_that_could_not_be_written_refuses_the_second_reading() {
        let kept = state();
        // A file opened for reading only: every write to it fails.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").unwrap();
        assert!(keep(kept, || File::open(&path)));
        let data = bytes(100_000);
        assert_eq!(
            read_all(open(kept, || io::Cursor::new(data.clone())).unwrap()).0,
            data
        );
        let e = open(kept, io::empty).err().expect("refused");
        assert!(e.to_string().contains("writing its copy failed"), "{e}");
    }
}
