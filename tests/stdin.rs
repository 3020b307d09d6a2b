//! A capture on standard input is analysed as the same file is: `analyze -` judges each
//! call as it ends (memory follows the calls in progress), and the readings after the
//! first (a capture that contradicts what its first calls were judged with, the ladders of
//! `--flow` and of the HTML page, `--annotate`, `extract`, a focus) read the copy of
//! standard input kept in the temporary directory (standard input redirected from a file
//! is read again where it lies). Without a temporary directory `analyze -` of a pipe holds
//! every call, as before, and what needs a second reading says so.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// `sipdiag ARGS`, `TMPDIR` set to `tmp` if given.
fn sipdiag_in(args: &[&str], tmp: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipdiag"));
    c.args(args).env("NO_COLOR", "1").env("COLUMNS", "100");
    if let Some(t) = tmp {
        c.env("TMPDIR", t);
    }
    c
}

/// `sipdiag ARGS` with `input` written into a pipe on its standard input (as
/// `cat INPUT | sipdiag ARGS`), and `TMPDIR` set to `tmp` if given.
fn piped(args: &[&str], input: &Path, tmp: Option<&str>) -> Output {
    piped_into(&mut sipdiag_in(args, tmp), input)
}

/// `sipdiag ARGS < INPUT`: standard input redirected from the file.
fn redirected(args: &[&str], input: &Path, tmp: Option<&str>) -> Output {
    sipdiag_in(args, tmp)
        .stdin(std::fs::File::open(input).unwrap())
        .output()
        .expect("run sipdiag")
}

/// `sipdiag ARGS` on a file.
fn named(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("run sipdiag")
}

/// A temporary directory that does not exist: no file can be made there.
const NO_TMP: &str = "/nonexistent/sipdiag-tmp";

/// Every fixture and corpus capture, by its path.
fn captures() -> Vec<std::path::PathBuf> {
    let dirs: Vec<String> = std::fs::read_dir(testdata(""))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    let files = fixtures_and_corpus(&dirs);
    assert!(files.len() > 60, "{} captures", files.len());
    files
}

#[test]
fn analyze_of_standard_input_is_the_report_of_the_file() {
    let mut compared = 0;
    for path in captures() {
        let p = path.to_str().unwrap();
        let file = named(&["analyze", "--format", "json", p]);
        let file_report = stdout(&file).replace(p, "-");
        let args = ["analyze", "--format", "json", "-"];
        for (how, stdin) in [
            ("piped", piped(&args, &path, None)),
            ("redirected", redirected(&args, &path, None)),
        ] {
            assert_eq!(file.status.code(), stdin.status.code(), "{p} {how}");
            assert_eq!(
                file_report,
                stdout(&stdin),
                "{p}: the report of standard input, {how}"
            );
        }
        compared += 1;
    }
    assert!(compared > 60);
}

/// Read as a stream, calls retire and a capture with more calls than `--max-calls`, never
/// that many at once, lets some go at the cap; held whole (`--in-memory`), it keeps them
/// all. Standard input is read as a stream, like the file.
#[test]
fn standard_input_is_judged_as_a_stream() {
    let path = testdata("followme/busy-site.pcap");
    let p = path.to_str().unwrap();
    let let_go = |o: &Output| -> Vec<u64> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == "CAP006" && f["evidence"]["limit"] == "calls")
            .map(|f| f["evidence"]["count"].as_u64().unwrap())
            .collect()
    };
    let args = ["analyze", "--format", "json", "--max-calls", "5"];
    let file = named(&[&args[..], &[p]].concat());
    assert_eq!(let_go(&file), [6], "the file, read as a stream");
    let stdin = piped(&[&args[..], &["-"]].concat(), &path, None);
    assert_eq!(let_go(&stdin), [6], "standard input, read as a stream");
    let held = piped(&[&args[..], &["--in-memory", "-"]].concat(), &path, None);
    assert_eq!(let_go(&held), Vec::<u64>::new(), "held whole");
    // Without a temporary directory to keep it in, a pipe is held whole, and reported as
    // before; a file redirected to standard input needs no copy.
    let no_tmp = piped(&[&args[..], &["-"]].concat(), &path, Some(NO_TMP));
    assert_eq!(stdout(&no_tmp), stdout(&held));
    let no_tmp = redirected(&[&args[..], &["-"]].concat(), &path, Some(NO_TMP));
    assert_eq!(
        let_go(&no_tmp),
        [6],
        "redirected, read as a stream without a copy"
    );
}

/// The fixture whose XCC is named by a later message: its first calls were judged without
/// it, and it is read a second time.
const READ_TWICE: &str = "extract/interleaved.pcapng";
const CALL: &str = "be84a8f872a54b74b8967c27@127.0.0.10";

#[test]
fn a_capture_read_again_from_standard_input_is_read_from_its_copy() {
    let path = testdata(READ_TWICE);
    let p = path.to_str().unwrap();
    let same = |args: &[&str]| {
        let file = named(&[args, &[p]].concat());
        let stdin = piped(&[args, &["-"]].concat(), &path, None);
        assert_eq!(file.status.code(), stdin.status.code(), "{args:?}");
        assert!(
            matches!(stdin.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&stdin.stderr)
        );
        let file = stdout(&file).replace(p, "-");
        assert!(file.contains(&CALL[..12]), "{args:?}: {file}");
        assert_eq!(file, stdout(&stdin), "{args:?}");
    };
    same(&["analyze", "--format", "json"]);
    same(&["analyze", "--format", "markdown", "--flow", "--verbose"]);
    same(&["analyze", "--format", "html"]);
    same(&["analyze", "--format", "json", "--call-id", CALL]);
    same(&["messages", "--call-id", CALL]);
    same(&["calls", "--format", "json", "--call-id", CALL]);
    same(&["media", "--format", "json", "--call-id", CALL]);
    same(&["flow", "--call-id", CALL]);

    // What is written to a file: the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let written = |args: &[&str], name: &str, stdin: bool| -> Vec<u8> {
        let out = dir.path().join(name);
        let o = out.to_str().unwrap();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "OUT" { o } else { a })
            .collect();
        let run = if stdin {
            piped(&[&args[..], &["-"]].concat(), &path, None)
        } else {
            named(&[&args[..], &[p]].concat())
        };
        assert!(
            matches!(run.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read(&out).unwrap()
    };
    let annotate = ["analyze", "--annotate", "OUT"];
    let from_file = written(&annotate, "a-file.pcapng", false);
    assert!(from_file.len() > 100_000);
    assert_eq!(from_file, written(&annotate, "a-stdin.pcapng", true));
    let extract = ["extract", "--call-id", CALL, "-o", "OUT"];
    let from_file = written(&extract, "x-file.pcapng", false);
    assert!(from_file.len() > 10_000);
    assert_eq!(from_file, written(&extract, "x-stdin.pcapng", true));
}

/// Without a temporary directory a pipe on standard input cannot be kept: what reads the capture
/// more than once says so (exit 2) and writes nothing.
#[test]
fn without_a_temporary_directory_what_reads_again_refuses_standard_input() {
    let path = testdata(READ_TWICE);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    let o = out.to_str().unwrap();
    for args in [
        vec!["analyze", "--annotate", o, "-"],
        vec!["extract", "--call-id", CALL, "-o", o, "-"],
        vec!["messages", "--call-id", CALL, "-"],
    ] {
        let run = piped(&args, &path, Some(NO_TMP));
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            err.contains("standard input could not be kept") && err.contains("save the capture"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?}");
    }
    // `analyze` alone holds every call instead: the report of the file. Redirected from
    // the file, standard input is read again where it lies, without a copy.
    let p = path.to_str().unwrap();
    let file = stdout(&named(&["analyze", "--format", "json", p])).replace(p, "-");
    let args = ["analyze", "--format", "json", "-"];
    assert_eq!(file, stdout(&piped(&args, &path, Some(NO_TMP))));
    assert_eq!(file, stdout(&redirected(&args, &path, Some(NO_TMP))));
    let md = ["analyze", "--format", "markdown", "--flow", "-"];
    let run = redirected(&md, &path, Some(NO_TMP));
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        stdout(&named(&["analyze", "--format", "markdown", "--flow", p])).replace(p, "-"),
        stdout(&run)
    );
}

/// A named pipe (a shell's `<(cat CAPTURE)`) is read once too: kept like standard input,
/// it gives the file's report, read again from its copy where needed.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_again_from_its_copy() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let f = fifo.to_str().unwrap();
    let path = testdata(READ_TWICE);
    let p = path.to_str().unwrap();
    // `sipdiag ARGS FIFO` while a thread writes the capture into the pipe once.
    let through_pipe = |args: &[&str]| -> Output {
        let (fifo, path) = (fifo.clone(), path.clone());
        let writer = std::thread::spawn(move || {
            // Opening blocks until sipdiag opens the pipe to read.
            let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            // sipdiag may stop reading early (damage): a broken pipe is its choice.
            let _ = std::io::Write::write_all(&mut pipe, &std::fs::read(path).unwrap());
        });
        // A second opening of the pipe would wait for a writer for ever: a minute at most.
        let child = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
            .args([args, &[f]].concat())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
        let Ok(out) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("{args:?}: still reading the pipe after a minute");
        };
        writer.join().unwrap();
        out
    };
    for args in [
        &["analyze", "--format", "json"][..],
        &["analyze", "--format", "markdown", "--flow"],
        &["messages", "--call-id", CALL],
    ] {
        let file = named(&[args, &[p]].concat());
        let pipe = through_pipe(args);
        assert_eq!(file.status.code(), pipe.status.code(), "{args:?}");
        assert_eq!(
            stdout(&file).replace(p, f),
            stdout(&pipe),
            "{args:?}: {}",
            String::from_utf8_lossy(&pipe.stderr)
        );
    }
}

/// Standard input holds one capture: given twice, two readers would each take part of it.
#[test]
fn standard_input_given_twice_is_refused() {
    let path = testdata(READ_TWICE);
    for args in [
        &["analyze", "-", "-"][..],
        &["calls", "-", "-"],
        &["messages", "-", "-"],
        &["media", "-", "-"],
    ] {
        let run = piped(args, &path, None);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&run.stderr)
                .contains("standard input (-) is given more than once"),
            "{args:?}"
        );
        assert!(run.stdout.is_empty(), "{args:?}");
    }
}
