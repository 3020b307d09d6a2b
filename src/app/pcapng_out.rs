//! Writing a pcapng file for a command (`analyze --annotate`, `extract`): one section per
//! input, through [`crate::capture::rewrite`], the file appearing whole or not at all.
//!
//! Input: the inputs with, for each, the frames to keep and the comments to add, and the
//! [`Output`] options. Output: the file, written beside its name (`NAME.partial`) and
//! renamed when complete, so a failure leaves no half-written capture behind.
//!
//! [`Output`] is where byte rewriting plugs in (redaction: same-length replacements in
//! each frame, and none of the names, addresses and keys the capture carries besides
//! its packets).

use std::io::Write;

use anyhow::Context;

use crate::capture::rewrite::{self, FrameComments, Rewrite, Transform};

/// How the frames are written.
#[derive(Default)]
pub(super) struct Output<'a> {
    /// The transform of every frame's bytes, given the index of the input it comes from
    /// (`None`: bytes as stored).
    pub transform: Option<&'a mut dyn FnMut(usize) -> Box<Transform<'a>>>,
    /// Leave out section, interface and packet options, name resolution, interface
    /// statistics and decryption secrets (see [`Rewrite::drop_metadata`]).
    pub drop_metadata: bool,
}

/// One input to copy.
pub(super) struct Input<'a> {
    pub path: &'a str,
    pub keep: &'a mut dyn FnMut(u64) -> bool,
    pub comments: Box<dyn FrameComments + 'a>,
}

/// What was written, over all inputs.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub frames: u64,
    pub comments_skipped: u64,
}

/// Writes the inputs to `out`, a section each; `flag` names the option that gave `out`,
/// for errors (`--annotate`, `-o`).
pub(super) fn write_pcapng(
    out: &str,
    flag: &str,
    inputs: Vec<Input<'_>>,
    mut how: Output<'_>,
) -> anyhow::Result<Written> {
    let partial = format!("{out}.partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("{flag} {out}: cannot create {partial}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    let copy = || -> anyhow::Result<Written> {
        let mut total = Written::default();
        for (i, input) in inputs.into_iter().enumerate() {
            // `--redact`: every frame rewritten as the analysis read it (a redactor per
            // input, as each scan has), and none of the names and addresses the file
            // carries besides its packets.
            let redactor = crate::redact::active();
            let redacting = redactor.is_some();
            let transform = match (how.transform.as_mut(), redactor) {
                (Some(t), _) => Some(t(i)),
                (None, Some(mut r)) => {
                    Some(rewrite::transform(move |f| r.frame(f.linktype, f.data)))
                }
                (None, None) => None,
            };
            let mut comments = input.comments;
            let plan = Rewrite {
                keep: input.keep,
                comments: &mut *comments,
                transform,
                drop_metadata: how.drop_metadata || redacting,
            };
            let s = rewrite::rewrite_capture(input.path, &mut w, out, plan)?;
            total.frames += s.written;
            total.comments_skipped += s.comments_skipped;
        }
        w.flush().with_context(|| format!("{out}: cannot write"))?;
        Ok(total)
    };
    let done = copy();
    drop(w);
    match done {
        Ok(total) => {
            std::fs::rename(&partial, out)
                .with_context(|| format!("{flag} {out}: cannot rename {partial} to it"))?;
            Ok(total)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    use crate::capture::rewrite::NoComments;

    /// The redaction hook, wired as `--redact` would: a same-length replacement in every
    /// frame of every input, and no metadata.
    #[test]
    fn a_transform_rewrites_every_frame_of_every_input() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/followme/fm002-intl00.pcap"
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("redacted.pcapng");
        let out = out.to_str().unwrap();
        let secret = b"4930123456";
        let mut seen = Vec::new();
        let mut per_input = |i: usize| {
            seen.push(i);
            rewrite::transform(|f| {
                let mut d = f.data.to_vec();
                for at in 0..d.len().saturating_sub(secret.len() - 1) {
                    if &d[at..at + secret.len()] == secret {
                        d[at..at + secret.len()].fill(b'X');
                    }
                }
                Cow::Owned(d)
            })
        };
        let (mut k1, mut k2) = (|_| true, |n| n == 1);
        let inputs = vec![
            Input {
                path: fixture,
                keep: &mut k1,
                comments: Box::new(NoComments),
            },
            Input {
                path: fixture,
                keep: &mut k2,
                comments: Box::new(NoComments),
            },
        ];
        let how = Output {
            transform: Some(&mut per_input),
            drop_metadata: true,
        };
        let written = write_pcapng(out, "-o", inputs, how).unwrap();
        assert_eq!(seen, vec![0, 1]);
        let mut before = Vec::new();
        crate::capture::read_capture(fixture, |f| before.push(f.data.to_vec())).unwrap();
        assert!(before.iter().any(|d| d.windows(10).any(|w| w == secret)));
        let mut after = Vec::new();
        crate::capture::read_capture(out, |f| after.push(f.data.to_vec())).unwrap();
        assert_eq!(written.frames, before.len() as u64 + 1);
        assert_eq!(after.len(), before.len() + 1);
        for (a, b) in after.iter().zip(before.iter().chain(&before[..1])) {
            assert_eq!(a.len(), b.len());
            assert!(!a.windows(10).any(|w| w == secret));
        }
        assert!(!std::path::Path::new(&format!("{out}.partial")).exists());
    }
}
