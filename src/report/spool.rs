//! A spool file: rows of a listing written out as they come, in the system's temporary
//! directory, and copied behind the listing's head when the capture has been read (the
//! head holds what is known only at the end). The file is removed when the spool is
//! dropped.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::PathBuf;

const SPACES: &[u8] = &[b' '; 16];

/// `v`, pretty-printed, as an element of an array whose elements stand `indent` spaces
/// in (an even number): serde_json's pretty text with each line indented, for
/// [`SpoolFile::element`]. Made in `scratch` (kept between rows) and returned in a buffer
/// of their size.
pub(crate) fn json_element_bytes<T: serde::Serialize>(
    v: &T,
    indent: usize,
    scratch: &mut Vec<u8>,
) -> io::Result<Vec<u8>> {
    use serde_json::ser::{Formatter, PrettyFormatter};
    debug_assert!(indent.is_multiple_of(2), "whole levels of two spaces");
    scratch.clear();
    scratch.extend_from_slice(&SPACES[..indent.min(SPACES.len())]);
    // serde_json's own pretty layout, its nesting started `indent / 2` levels in (each
    // level opened on a writer that discards the bracket): lines after the first are
    // indented as they would be inside those levels.
    let mut f = PrettyFormatter::with_indent(b"  ");
    for _ in 0..indent / 2 {
        f.begin_array(&mut io::sink())?;
    }
    let mut ser = serde_json::Serializer::with_formatter(&mut *scratch, f);
    v.serialize(&mut ser).map_err(io::Error::other)?;
    Ok(scratch.to_vec())
}

/// Rows written to a temporary file; see the module docs.
pub(crate) struct SpoolFile {
    /// Declared before `_removal`: fields drop in order, so the file is closed before it is
    /// removed (Windows removes no open file).
    file: BufWriter<File>,
    _removal: Removal,
    /// Items written.
    pub(crate) items: u64,
}

impl SpoolFile {
    /// A new, empty spool; `what` names it (`sipdiag-{what}-{pid}-{n}`).
    pub(crate) fn new(what: &str) -> io::Result<SpoolFile> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "sipdiag-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(SpoolFile {
            file: BufWriter::with_capacity(1 << 16, file),
            _removal: Removal(path),
            items: 0,
        })
    }

    /// `text` and a line break, as one item.
    pub(crate) fn line(&mut self, text: impl AsRef<[u8]>) -> io::Result<()> {
        self.file.write_all(text.as_ref())?;
        self.items += 1;
        self.file.write_all(b"\n")
    }

    /// `text` as it is, as one item.
    pub(crate) fn text(&mut self, text: &str) -> io::Result<()> {
        self.items += 1;
        self.file.write_all(text.as_bytes())
    }

    /// An element made by [`json_element_bytes`], after a comma unless it is the first.
    pub(crate) fn element(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.items > 0 {
            self.file.write_all(b",\n")?;
        }
        self.items += 1;
        self.file.write_all(bytes)
    }

    /// The file's writer at the end of the file (reading it back moves its position),
    /// for bytes that are not items (runs of [`super::ordered`]).
    pub(crate) fn append(&mut self) -> io::Result<&mut impl Write> {
        self.file.seek(io::SeekFrom::End(0))?;
        Ok(&mut self.file)
    }

    /// Bytes in the file (what is written so far).
    pub(crate) fn len(&mut self) -> io::Result<u64> {
        self.file.flush()?;
        Ok(self.file.get_ref().metadata()?.len())
    }

    /// The file, everything written so far in it, to read back.
    pub(crate) fn file(&mut self) -> io::Result<&std::fs::File> {
        self.file.flush()?;
        Ok(self.file.get_ref())
    }

    /// What was written, copied to `w`.
    pub(crate) fn copy_to(&mut self, w: &mut impl Write) -> io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(io::SeekFrom::Start(0))?;
        io::copy(file, w)?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &std::path::Path {
        &self._removal.0
    }
}

/// Removes its file when dropped.
struct Removal(PathBuf);

impl Drop for Removal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_lines_come_back_in_order_and_the_file_goes() {
        // Each line of serde_json's pretty text indented, a comma between elements
        // (a string's line break stays escaped).
        let mut s = SpoolFile::new("test").unwrap();
        let mut scratch = Vec::new();
        let v = serde_json::json!({"a": [1, "x\ny"]});
        s.element(&json_element_bytes(&v, 4, &mut scratch).unwrap())
            .unwrap();
        s.element(&json_element_bytes(&2, 4, &mut scratch).unwrap())
            .unwrap();
        let mut out = Vec::new();
        s.copy_to(&mut out).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let indented: Vec<String> = pretty.lines().map(|l| format!("    {l}")).collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            indented.join("\n") + ",\n    2"
        );
        assert!(pretty.contains("\"x\\ny\""), "{pretty}");
        let path = s.path().to_path_buf();
        assert!(path.exists());
        drop(s);
        assert!(!path.exists());

        let mut s = SpoolFile::new("test").unwrap();
        s.line("one").unwrap();
        s.line("two").unwrap();
        assert_eq!(s.items, 2);
        let mut out = Vec::new();
        s.copy_to(&mut out).unwrap();
        assert_eq!(out, b"one\ntwo\n");
    }
}
