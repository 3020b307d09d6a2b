//! Helpers shared by the targets (included with `#[path]`, not a crate of its own).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use sipdiag::cli::Cli;

/// Writes `data` to this process's scratch file (one per target and process, overwritten
/// on every run) and returns its path: sipdiag's commands read files, and so do the targets.
pub fn scratch(name: &str, data: &[u8]) -> String {
    let path: PathBuf =
        std::env::temp_dir().join(format!("sipdiag-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("scratch file");
    path.to_string_lossy().into_owned()
}

/// Runs the command line through `sipdiag::app::run`, as the binary does; the outcome
/// (exit code or error) does not matter, only that it comes back. Reports go to standard
/// output: run the target with `>/dev/null`.
pub fn run(args: &[&str]) {
    let cli = Cli::try_parse_from(std::iter::once("sipdiag").chain(args.iter().copied()))
        .expect("the target's own command line parses");
    let _ = sipdiag::app::run(&cli);
}

pub fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
}

/// Reads the fuzzer's bytes as a sequence of small fields.
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}
