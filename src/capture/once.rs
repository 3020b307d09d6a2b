//! Input that can be read only once (standard input, a named pipe such as a shell's
//! `<(…)`) read more than once: when a command may need a second reading (an `analyze`
//! whose capture contradicts what its first calls were judged with, the ladders and
//! annotations read after the report, a focus found on a first reading), it asks for the
//! input to be kept ([`keep_input`]) before reading it. The first reading then copies every
//! byte it takes into an anonymous temporary file (removed by the system when the process
//! ends), and every later reading reads that copy from its start, ending as the first
//! ended (with its read error, if the input failed). Memory stays that of one reading; the
//! copy takes the capture's size on disk.
//!
//! Standard input redirected from a regular file (`sipdiag analyze - < capture.pcap`) needs
//! no copy: kept, it is read where it lies, from where it stood, every time.
//!
//! Without the request such an input is read as it is, once (a second reading of standard
//! input finds it empty), and nothing is written to disk.
//!
//! Stage: capture. Input: standard input or a path that is not a regular file. Output:
//! readers of its bytes for [`super::input`].

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
    /// Read once and copied whole, or lying in a file (standard input redirected from
    /// one): `len` bytes from `start` in `file`, and how the reading ended (`None` at the
    /// end of the input; else the read error, as its kind and text).
    Copied {
        file: Arc<File>,
        start: u64,
        len: u64,
        end: Option<(io::ErrorKind, String)>,
    },
    /// The copy could not be written (the cause): a second reading cannot be served.
    Lost(String),
}

/// The inputs read once that a command asked to keep, by path (`-`: standard input); a
/// few per process, each kept for the process's life.
static KEPT: Mutex<Vec<(String, &'static Mutex<Kept>)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `path` names input that can be read only once: standard input (`-`), or
/// anything but a regular file (a named pipe, a device). A path that cannot be looked at
/// is not: opening it reports why.
pub fn read_once(path: &str) -> bool {
    path == "-" || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// What is kept of `path`, if it was read or asked to be kept.
fn kept_of(path: &str) -> Option<&'static Mutex<Kept>> {
    let kept = lock(&KEPT);
    kept.iter().find(|(p, _)| p == path).map(|(_, k)| *k)
}

/// What is kept of `path`, from now on.
fn state_of(path: &str) -> &'static Mutex<Kept> {
    let mut kept = lock(&KEPT);
    if let Some((_, k)) = kept.iter().find(|(p, _)| p == path) {
        return k;
    }
    let k: &'static Mutex<Kept> = Box::leak(Box::new(Mutex::new(Kept::Plain {
        read: false,
        why_not: None,
    })));
    kept.push((path.to_string(), k));
    k
}

/// Where a kept input's later readings find its bytes.
enum Source {
    /// In a copy, made as it is first read.
    Copy(File),
    /// Where they lie: `len` bytes from `start` in `file`.
    InPlace { file: File, start: u64, len: u64 },
}

/// Asks that `path`, input that can be read only once ([`read_once`]), be kept for
/// further readings (see the module docs); call it before the first reading. Whether it
/// will be: `false` when no temporary file could be made, or the input was already read
/// without being kept.
pub fn keep_input(path: &str) -> bool {
    keep(state_of(path), || {
        if path == "-"
            && let Some(in_place) = stdin_in_place()
        {
            return Ok(in_place);
        }
        tempfile::tempfile().map(Source::Copy)
    })
}

/// Standard input, when it is a regular file: its bytes from where it stands to its end.
fn stdin_in_place() -> Option<Source> {
    #[cfg(unix)]
    let handle = std::os::fd::AsFd::as_fd(&io::stdin())
        .try_clone_to_owned()
        .ok()?;
    #[cfg(windows)]
    let handle = std::os::windows::io::AsHandle::as_handle(&io::stdin())
        .try_clone_to_owned()
        .ok()?;
    let mut file = File::from(handle);
    let size = file.metadata().ok().filter(|m| m.is_file())?.len();
    let start = io::Seek::stream_position(&mut file).ok()?;
    Some(Source::InPlace {
        file,
        start,
        len: size.saturating_sub(start),
    })
}

/// Whether `path` is kept (or will be, as it is first read): it can then be read again.
pub fn input_kept(path: &str) -> bool {
    kept_of(path).is_some_and(|k| {
        matches!(
            *lock(k),
            Kept::Ready(_) | Kept::Copying | Kept::Copied { .. }
        )
    })
}

fn keep(kept: &Mutex<Kept>, make: impl FnOnce() -> io::Result<Source>) -> bool {
    let mut k = lock(kept);
    match &*k {
        Kept::Plain {
            read: false,
            why_not: None,
        } => match make() {
            Ok(Source::Copy(file)) => {
                *k = Kept::Ready(file);
                true
            }
            Ok(Source::InPlace { file, start, len }) => {
                *k = Kept::Copied {
                    file: Arc::new(file),
                    start,
                    len,
                    end: None,
                };
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

/// A reading of `path`, input that can be read only once ([`read_once`]): the input
/// itself, copied as it goes when it is kept and read for the first time, else its copy.
pub(super) fn open_once(path: &str) -> io::Result<Box<dyn Read + Send>> {
    let state = state_of(path);
    if path == "-" {
        open(state, || Ok(io::stdin()))
    } else {
        open(state, || File::open(path))
    }
}

fn open<R: Read + Send + 'static>(
    kept: &'static Mutex<Kept>,
    input: impl FnOnce() -> io::Result<R>,
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
        Kept::Plain { read, why_not } => {
            let opened = input();
            *k = Kept::Plain {
                read: read || opened.is_ok(),
                why_not,
            };
            Ok(Box::new(opened?))
        }
        Kept::Ready(file) => match input() {
            Ok(input) => Ok(Box::new(Copying {
                input,
                copy: Some(BufWriter::with_capacity(1 << 16, file)),
                len: 0,
                end: None,
                lost: None,
                kept,
            })),
            // Not opened: the next reading tries again.
            Err(e) => {
                *k = Kept::Ready(file);
                Err(e)
            }
        },
        Kept::Copying => Err(io::Error::other(
            "the input is still being read by its first reading",
        )),
        Kept::Copied {
            file,
            start,
            len,
            end,
        } => {
            let reader = CopyReader {
                file: Arc::clone(&file),
                start,
                pos: 0,
                len,
                end: end.clone(),
            };
            *k = Kept::Copied {
                file,
                start,
                len,
                end,
            };
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
        "it can be read only once, and was ({cause}); save the capture to a file and give its name"
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
                start: 0,
                len: self.len,
                end: self.end.take(),
            },
            Err(cause) => Kept::Lost(cause),
        };
    }
}

/// A later reading: the copy from its start, each reading at its own position (`pos`
/// bytes past `start`).
struct CopyReader {
    file: Arc<File>,
    start: u64,
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
        let n = read_at(&self.file, &mut buf[..want], self.start + self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the copy of the input is shorter than what was read",
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

    /// A copy in a temporary file.
    fn copy() -> io::Result<Source> {
        tempfile::tempfile().map(Source::Copy)
    }

    /// An input that opens as `r`.
    fn ok<R>(r: R) -> impl FnOnce() -> io::Result<R> {
        move || Ok(r)
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

    /// A reading of `kept` whose input, if it is opened, holds `data`: what it gave.
    fn read_through(kept: &'static Mutex<Kept>, data: &[u8]) -> Vec<u8> {
        read_all(open(kept, ok(io::Cursor::new(data.to_vec()))).unwrap()).0
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_kept_input_reads_the_same_every_time() {
        let kept = state();
        assert!(keep(kept, copy));
        let data = bytes(200_000);
        let first = open(kept, ok(io::Cursor::new(data.clone()))).unwrap();
        assert_eq!(read_all(first), (data.clone(), None));
        for _ in 0..3 {
            let again = open(kept, || -> io::Result<io::Cursor<Vec<u8>>> {
                panic!("read once")
            })
            .unwrap();
            assert_eq!(read_all(again), (data.clone(), None));
        }
    }

    #[test]
    fn two_later_readings_each_keep_their_place() {
        let kept = state();
        assert!(keep(kept, copy));
        let data = bytes(100);
        read_through(kept, &data);
        let mut a = open(kept, ok(io::empty())).unwrap();
        let mut b = open(kept, ok(io::empty())).unwrap();
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
        assert!(keep(kept, copy));
        let data = bytes(1000);
        let mut first = open(kept, ok(io::Cursor::new(data.clone()))).unwrap();
        let mut x = [0u8; 300];
        first.read_exact(&mut x).unwrap();
        drop(first);
        assert_eq!(
            read_all(open(kept, ok(io::empty())).unwrap()).0,
            data[..300]
        );
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
        assert!(keep(kept, copy));
        let first = read_all(open(kept, ok(Failing(20))).unwrap());
        assert_eq!(first, (vec![7; 20], Some("pipe broke".to_string())));
        let again = open(kept, ok(io::empty())).unwrap();
        assert_eq!(read_all(again), first);
    }

    #[test]
    fn not_kept_it_is_read_once() {
        let kept = state();
        let data = bytes(50);
        assert_eq!(read_through(kept, &data), data);
        // What the first reading left: here nothing.
        let again = open(kept, ok(io::Cursor::new(Vec::new()))).unwrap();
        assert_eq!(read_all(again).0, Vec::<u8>::new());
        assert!(!keep(kept, copy), "too late to keep it");
    }

    #[test]
    fn no_temporary_file_no_second_reading() {
        let kept = state();
        assert!(!keep(kept, || Err(io::Error::other("disk full"))));
        assert!(!keep(kept, copy), "asked once, refused for good");
        let data = bytes(50);
        assert_eq!(read_through(kept, &data), data);
        let e = open(kept, ok(io::empty())).err().expect("refused");
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
        assert!(keep(kept, || File::open(&path).map(Source::Copy)));
        let data = bytes(100_000);
        assert_eq!(read_through(kept, &data), data);
        let e = open(kept, ok(io::empty())).err().expect("refused");
        assert!(e.to_string().contains("writing its copy failed"), "{e}");
    }

    #[test]
    fn what_can_be_read_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.pcap");
        std::fs::write(&file, b"x").unwrap();
        assert!(read_once("-"));
        assert!(!read_once(file.to_str().unwrap()));
        assert!(!read_once(dir.path().to_str().unwrap()));
        assert!(!read_once(dir.path().join("none").to_str().unwrap()));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("p");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
            assert!(read_once(fifo.to_str().unwrap()));
        }
    }

    /// Input lying in a file (standard input redirected from one) is read where it lies,
    /// from where it stood: never opened, never copied.
    #[test]
    fn input_in_a_file_is_read_where_it_lies() {
        let kept = state();
        let data = bytes(10_000);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &data).unwrap();
        assert!(keep(kept, || Ok(Source::InPlace {
            file,
            start: 24,
            len: data.len() as u64 - 24,
        })));
        for _ in 0..3 {
            let r = open(kept, || -> io::Result<io::Empty> { panic!("not opened") }).unwrap();
            assert_eq!(read_all(r), (data[24..].to_vec(), None));
        }
    }
}
