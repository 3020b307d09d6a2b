//! The Windows binary (target x86_64-pc-windows-gnu, built by `.ci/windows`) run under wine
//! against the Linux binary: the same findings and exit codes on every capture in
//! `testdata/`, the same `messages`, `calls` and `watch` listings, Windows paths (drive letters,
//! backslashes), site and IP Office files with CRLF line endings, and `--color`.
//!
//! Runs only when `SIPDIAG_WINDOWS_EXE` names the .exe and `wine` is on PATH; otherwise
//! it prints `SKIPPED: …` and passes, so a plain `cargo test` needs neither.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

/// The .exe and wine, or `None` after saying why the checks are skipped.
fn windows_exe() -> Option<PathBuf> {
    let Some(exe) = std::env::var_os("SIPDIAG_WINDOWS_EXE") else {
        eprintln!(
            "SKIPPED: SIPDIAG_WINDOWS_EXE is unset; `.ci/windows` builds the .exe and sets it"
        );
        return None;
    };
    let exe = PathBuf::from(exe);
    assert!(
        exe.is_file(),
        "SIPDIAG_WINDOWS_EXE={} is not a file",
        exe.display()
    );
    let wine = Command::new("wine").arg("--version").output();
    if !wine.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: wine is not installed; `.ci/windows` installs it");
        return None;
    }
    Some(exe)
}

/// A wine prefix of this test binary's own (unless WINEPREFIX names one), initialised
/// once: the first start of wine creates it, which takes seconds.
fn wine_prefix() -> PathBuf {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX
        .get_or_init(|| {
            let p = std::env::var_os("WINEPREFIX")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine"));
            let out = wine_command(&p, "cmd")
                .args(["/c", "echo", "ready"])
                .output()
                .expect("start wine");
            assert!(out.status.success(), "wine prefix {}: {out:?}", p.display());
            install_process_prng(&p);
            p
        })
        .clone()
}

/// wine before 9.0 has no bcryptprimitives.dll, without which no Rust program starts;
/// `tests/windows/bcryptprimitives.c` stands in for it in the test's prefix only. A wine
/// that has its own (a placeholder file in system32) is left alone.
fn install_process_prng(prefix: &Path) {
    let dll = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    if dll.exists() {
        return;
    }
    let src = root().join("tests/windows/bcryptprimitives.c");
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(&dll)
        .arg(&src)
        .arg("-ladvapi32")
        .output()
        .expect("x86_64-w64-mingw32-gcc (Debian package mingw-w64) builds bcryptprimitives.dll");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The terminal width both binaries are run at (see [`wine_command`]).
const COLUMNS: &str = "1000";

fn wine_command(prefix: &Path, program: &str) -> Command {
    let mut c = Command::new("wine");
    c.arg(program)
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko installer dialogs when the prefix is created.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("NO_COLOR", "1")
        // Wide enough that no line wraps: a capture path printed in the text reports is
        // spelled `Z:\…` on Windows and `/…` on Linux, so wrapping at the same width would
        // break the two at different places (and the comparison respells paths only).
        .env("COLUMNS", COLUMNS)
        .current_dir(root());
    c
}

/// Runs the .exe under wine, in the repository root (so relative paths resolve there).
fn windows(exe: &Path, args: &[&str]) -> Output {
    under_wine(|| {
        let mut c = wine_command(&wine_prefix(), exe.to_str().unwrap());
        c.args(args);
        c
    })
}

/// Runs the command `make` builds, again (up to three times in all) when wine itself failed
/// to run the program: a non-zero exit with no output and no `sipdiag:` error line, or no
/// exit code at all. sipdiag never exits the first way (exit 1 comes with a report on
/// standard output, exit 2 with a `sipdiag: …` error on standard error), while wine's
/// loader exits 1 on its own fatal errors, such as a wineserver it cannot reach on a
/// loaded machine. Nor can it end the second way: a Windows program that crashes ends
/// with an exception code as its exit code; the wine process ending on a Unix signal is
/// wine's own end (seen on a loaded machine, after sipdiag had written its error line).
fn under_wine(make: impl Fn() -> Command) -> Output {
    retried(
        || make().output().expect("run the .exe under wine"),
        |out| {
            out.status.code().is_none()
                || (!out.status.success()
                    && out.stdout.is_empty()
                    && !String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .any(|l| l.starts_with("sipdiag")))
        },
    )
}

/// The output of `run`, run again (up to three times in all) while `wine_failed` says that
/// wine did not run the program. Each retry is reported.
fn retried(mut run: impl FnMut() -> Output, wine_failed: impl Fn(&Output) -> bool) -> Output {
    let mut out = run();
    for attempt in 1..3 {
        if !wine_failed(&out) {
            break;
        }
        eprintln!("wine did not run the program (attempt {attempt}, {out:?}); again");
        out = run();
    }
    out
}

/// Runs the Linux binary with the same environment as [`windows`].
fn linux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", COLUMNS)
        .current_dir(root())
        .output()
        .expect("run sipdiag")
}

/// How Windows (under wine, whose drive Z: is the Unix root) spells an absolute path.
fn z_drive(p: &Path) -> String {
    format!("Z:{}", p.to_str().unwrap().replace('/', "\\"))
}

/// Every capture-like file under testdata/ (captures, damaged ones and non-captures).
fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| [".pcap", ".pcapng", ".gz"].iter().any(|x| n.ends_with(x)))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("testdata"), &mut out);
    out.sort();
    out
}

/// The output with the Windows spelling of a path replaced by the Linux one, in every JSON
/// string when it is JSON (a document, or JSON Lines as `watch` writes), else in the text.
fn respell(out: &[u8], windows: &str, linux: &str) -> String {
    fn walk(v: &mut serde_json::Value, w: &str, l: &str) {
        match v {
            serde_json::Value::String(s) => *s = s.replace(w, l),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, w, l)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, w, l)),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(out);
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) {
        walk(&mut v, windows, linux);
        return serde_json::to_string_pretty(&v).unwrap();
    }
    let lines: Option<Vec<serde_json::Value>> =
        text.lines().map(|l| serde_json::from_str(l).ok()).collect();
    match lines {
        Some(mut values) if !values.is_empty() => values
            .iter_mut()
            .map(|v| {
                walk(v, windows, linux);
                serde_json::to_string(v).unwrap() + "\n"
            })
            .collect(),
        _ => text.replace(windows, linux),
    }
}

/// Runs `args` with `{}` standing for the capture on both systems (the Linux binary gets
/// `linux_path`, the .exe `windows_path`) and asserts the same exit code, standard output
/// and standard error, the capture path spelling aside. Returns the Linux output.
fn same_on_both(
    exe: &Path,
    args: &[&str],
    linux_path: &str,
    windows_path: &str,
    what: &str,
) -> Output {
    let l_args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "{}" { linux_path } else { a })
        .collect();
    let w_args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "{}" { windows_path } else { a })
        .collect();
    let l = linux(&l_args);
    let w = windows(exe, &w_args);
    assert!(
        l.status.code().is_some_and(|c| c <= 2),
        "{what}: Linux exit {:?}: {}",
        l.status,
        String::from_utf8_lossy(&l.stderr)
    );
    assert_eq!(
        w.status.code(),
        l.status.code(),
        "{what} {args:?}: exit codes differ; Windows stderr: {}",
        String::from_utf8_lossy(&w.stderr)
    );
    let (lo, wo) = (
        String::from_utf8_lossy(&l.stdout),
        respell(&w.stdout, windows_path, linux_path),
    );
    // JSON (a document or JSON Lines) goes through the same rewriting on both sides.
    let json_lines = !lo.trim().is_empty()
        && lo
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok());
    let lo = if json_lines || serde_json::from_str::<serde_json::Value>(&lo).is_ok() {
        respell(&l.stdout, windows_path, linux_path)
    } else {
        lo.into_owned()
    };
    assert_eq!(wo, lo, "{what} {args:?}: standard output differs");
    let w_err = without_wine(
        &respell(&w.stderr, windows_path, linux_path),
        &format!("{what} {args:?}"),
    );
    assert_eq!(
        w_err,
        String::from_utf8_lossy(&l.stderr),
        "{what} {args:?}: standard error differs"
    );
    l
}

/// `analyze -f json` on every fixture, the .exe given the capture as `Z:\…`: the same
/// findings (the whole JSON report) and exit codes. Each start of a program under wine
/// takes over a second of waiting, little of it on the CPU: eight at a time.
#[test]
fn analyze_gives_the_same_findings_and_exit_codes_on_every_fixture() {
    let Some(exe) = windows_exe() else { return };
    wine_prefix();
    let all = fixtures();
    assert!(all.len() >= 80, "{} fixtures", all.len());
    let codes = std::sync::Mutex::new(std::collections::BTreeMap::new());
    std::thread::scope(|s| {
        for part in all.chunks(all.len().div_ceil(8)) {
            let (exe, codes) = (&exe, &codes);
            s.spawn(move || {
                for p in part {
                    let what = p.strip_prefix(root()).unwrap().display().to_string();
                    let out = same_on_both(
                        exe,
                        &["analyze", "-f", "json", "{}"],
                        p.to_str().unwrap(),
                        &z_drive(p),
                        &what,
                    );
                    codes.lock().unwrap().insert(what, out.status.code());
                }
            });
        }
    });
    // The comparison covers all three exit codes, not only clean runs.
    let codes = codes.into_inner().unwrap();
    for c in [0, 1, 2] {
        assert!(
            codes.values().any(|v| *v == Some(c)),
            "no fixture exits {c}: {codes:?}"
        );
    }
    assert_eq!(codes["testdata/followme/fm002-intl00.pcap"], Some(1));
    assert_eq!(codes["testdata/reader/not-a-capture.pcap"], Some(2));
}

/// `messages`, `calls` and `watch`, as tables and as JSON, on a few captures (UDP, TCP, IP
/// fragments, gzip, pcapng).
#[test]
fn messages_and_calls_are_the_same() {
    let Some(exe) = windows_exe() else { return };
    for rel in [
        "followme/fm002-intl00.pcap",
        "followme/healthy-history-info-tcp.pcap",
        "followme/cap005-followme-fragmented.pcap",
        "reader/gzipped.pcap.gz",
        "reader/two-linktypes.pcapng",
    ] {
        let p = testdata(rel);
        for args in [
            &["messages", "{}"][..],
            &["messages", "-f", "json", "{}"],
            &["calls", "{}"],
            &["calls", "-f", "json", "{}"],
            &["watch", "{}"],
            &["watch", "-f", "json", "{}"],
        ] {
            same_on_both(&exe, args, p.to_str().unwrap(), &z_drive(&p), rel);
        }
    }
}

/// Windows spellings of a path: drive letter and backslashes, relative with backslashes,
/// relative with slashes; gzip recognised behind a backslash path; a missing file is one
/// error line naming it, exit 2.
#[test]
fn windows_paths_are_read() {
    let Some(exe) = windows_exe() else { return };
    let p = testdata("followme/fm002-intl00.pcap");
    let linux_out = linux(&["analyze", "-f", "json", p.to_str().unwrap()]);
    let ids_linux = ids(&serde_json::from_slice(&linux_out.stdout).unwrap());
    assert!(ids_linux.contains(&"FM002".to_string()), "{ids_linux:?}");
    for spelling in [
        z_drive(&p),
        z_drive(&p).replacen("Z:", "z:", 1),
        "testdata\\followme\\fm002-intl00.pcap".to_string(),
        "testdata/followme/fm002-intl00.pcap".to_string(),
        ".\\testdata\\followme\\..\\followme\\fm002-intl00.pcap".to_string(),
    ] {
        let out = windows(&exe, &["analyze", "-f", "json", &spelling]);
        assert_eq!(out.status.code(), Some(1), "{spelling}: {out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ids(&v), ids_linux, "{spelling}");
        let json = String::from_utf8_lossy(&out.stdout);
        assert!(
            json.contains(&spelling.replace('\\', "\\\\")),
            "{spelling}: the report names the capture as given"
        );
    }
    let gz = windows(&exe, &["messages", "testdata\\reader\\gzipped.pcap.gz"]);
    assert_eq!(gz.status.code(), Some(0), "{gz:?}");
    let lgz = linux(&["messages", "testdata/reader/gzipped.pcap.gz"]);
    assert_eq!(
        stdout(&gz).replace("testdata\\reader\\", "testdata/reader/"),
        stdout(&lgz)
    );
    // Standard input is `-` on Windows too.
    let out = under_wine(|| {
        let mut c = wine_command(&wine_prefix(), exe.to_str().unwrap());
        c.args(["analyze", "-f", "json", "-"])
            .stdin(std::fs::File::open(&p).unwrap());
        c
    });
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        ids(&serde_json::from_slice(&out.stdout).unwrap()),
        ids_linux
    );
    let missing = "Z:\\no\\such\\dir\\x.pcap";
    let out = windows(&exe, &["analyze", missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = without_wine(&String::from_utf8_lossy(&out.stderr), "a missing file");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(missing), "{err}");
}

/// Standard error of the .exe without wine's own lines: wine sometimes reports a fault in
/// one of its own threads after the program has written everything and chosen its exit
/// code; such `wine:` lines are wine's, not sipdiag's, and are shown (for `what`) rather
/// than compared.
fn without_wine(err: &str, what: &str) -> String {
    let (wine, ours): (Vec<&str>, Vec<&str>) = err
        .split_inclusive('\n')
        .partition(|l| l.starts_with("wine: "));
    if !wine.is_empty() {
        eprintln!("{what}: wine said: {}", wine.concat());
    }
    ours.concat()
}

/// `text` with every line ending in CRLF, written beside the test's other temporary files.
fn crlf_copy(src: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    assert!(!text.contains('\r'), "{} already has CRLF", src.display());
    let crlf = text.replace('\n', "\r\n");
    let out = dir.join(src.file_name().unwrap());
    std::fs::write(&out, crlf).unwrap();
    out
}

/// A site file and an IP Office configuration saved with CRLF line endings (as Notepad
/// does, with or without a byte order mark) read the same as with LF, on Windows and on
/// Linux.
#[test]
fn crlf_site_and_ip_office_files_read_as_lf() {
    let Some(exe) = windows_exe() else { return };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let site = crlf_copy(&testdata("site.toml"), dir.path());
    let capture = testdata("followme/fm002-intl00.pcap");
    let lf = linux(&[
        "analyze",
        "-f",
        "json",
        "--site",
        "testdata/site.toml",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(lf.status.code(), Some(1), "{lf:?}");
    let args = |site: &str| {
        [
            "analyze".to_string(),
            "-f".into(),
            "json".into(),
            "--site".into(),
            site.into(),
            "{}".into(),
        ]
    };
    let a = args(site.to_str().unwrap());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    // The Linux binary reads the CRLF file too; the .exe is given it as Z:\….
    let l = linux(
        &a.iter()
            .map(|x| {
                if *x == "{}" {
                    capture.to_str().unwrap()
                } else {
                    x
                }
            })
            .collect::<Vec<_>>(),
    );
    let respelt = |o: &Output| respell(&o.stdout, &z_drive(&capture), capture.to_str().unwrap());
    assert_eq!(respelt(&l), respelt(&lf), "CRLF site file on Linux");
    let wsite = z_drive(&site);
    let w = windows(
        &exe,
        &[
            "analyze",
            "-f",
            "json",
            "--site",
            &wsite,
            &z_drive(&capture),
        ],
    );
    assert_eq!(w.status.code(), Some(1), "{w:?}");
    assert_eq!(respelt(&w), respelt(&lf), "CRLF site file on Windows");

    // Notepad's "UTF-8 with BOM": a byte order mark before the CRLF text.
    let bom = dir.path().join("bom-site.toml");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(std::fs::read(&site).unwrap());
    std::fs::write(&bom, bytes).unwrap();
    let wbom = z_drive(&bom);
    let w = windows(
        &exe,
        &["analyze", "-f", "json", "--site", &wbom, &z_drive(&capture)],
    );
    assert_eq!(w.status.code(), Some(1), "{w:?}");
    assert_eq!(
        respelt(&w),
        respelt(&lf),
        "BOM and CRLF site file on Windows"
    );

    // A CRLF site file with an error: one line, the line number, no carriage return.
    let bad = dir.path().join("bad-site.toml");
    std::fs::write(&bad, "[site]\r\ncountry_code = 49\r\nbogus = 1\r\n").unwrap();
    let w = windows(
        &exe,
        &["analyze", "--site", &z_drive(&bad), &z_drive(&capture)],
    );
    let l = linux(&[
        "analyze",
        "--site",
        bad.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(w.status.code(), Some(2));
    assert_eq!(l.status.code(), Some(2));
    let err = without_wine(
        &respell(&w.stderr, &z_drive(&bad), bad.to_str().unwrap()),
        "a bad site file",
    );
    assert_eq!(err, String::from_utf8_lossy(&l.stderr));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\r'), "{err:?}");

    // ipo-route with a CRLF configuration: the same replay as with the LF original.
    let config = crlf_copy(&testdata("ipoffice/example.toml"), dir.path());
    let ipo = testdata("ipoffice/ipo-busy-486.pcap");
    let lf = linux(&[
        "ipo-route",
        "--config",
        "testdata/ipoffice/example.toml",
        "-f",
        "json",
        ipo.to_str().unwrap(),
    ]);
    assert!(lf.status.code().is_some_and(|c| c <= 1), "{lf:?}");
    let wconfig = z_drive(&config);
    let w = windows(
        &exe,
        &[
            "ipo-route",
            "--config",
            &wconfig,
            "-f",
            "json",
            &z_drive(&ipo),
        ],
    );
    assert_eq!(w.status.code(), lf.status.code(), "{w:?}");
    assert_eq!(
        respell(&w.stdout, &z_drive(&ipo), ipo.to_str().unwrap()),
        respell(&lf.stdout, "", ""),
        "ipo-route with a CRLF configuration on Windows"
    );
}

/// `--color always` writes the same ANSI colours as on Linux (into a pipe, whatever
/// NO_COLOR says); `never` and `auto` into a pipe write none.
#[test]
fn colour_choices_match_linux() {
    let Some(exe) = windows_exe() else { return };
    let p = testdata("followme/fm002-intl00.pcap");
    let (lp, wp) = (p.to_str().unwrap(), z_drive(&p));
    let always = same_on_both(
        &exe,
        &["analyze", "--color", "always", "{}"],
        lp,
        &wp,
        "always",
    );
    assert!(stdout(&always).contains("\x1b["), "{}", stdout(&always));
    for choice in ["never", "auto"] {
        let out = same_on_both(&exe, &["analyze", "--color", choice, "{}"], lp, &wp, choice);
        assert!(!stdout(&out).contains('\x1b'), "{choice}");
    }
    // clap's help follows --color on Windows too.
    let help = same_on_both(
        &exe,
        &["--color", "always", "analyze", "--help"],
        lp,
        &wp,
        "help",
    );
    assert!(stdout(&help).contains("\x1b["));
}

/// On a console (wine's console on a pseudo-terminal made by `script`), `--color auto`
/// colours, unless NO_COLOR is set; `never` does not. The red of "error" reaches the
/// console as the same SGR sequence the Linux binary writes.
#[test]
fn colour_on_a_windows_console() {
    let Some(exe) = windows_exe() else { return };
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: colour on a console needs `script` (util-linux) for a terminal");
        return;
    }
    let p = z_drive(&testdata("followme/fm002-intl00.pcap"));
    let red_error = "\x1b[38;5;9merror";
    let linux = linux(&["analyze", "--color", "always", "{}"].map(|a| {
        if a == "{}" {
            "testdata/followme/fm002-intl00.pcap"
        } else {
            a
        }
    }));
    assert!(stdout(&linux).contains(red_error), "{}", stdout(&linux));
    let prefix = wine_prefix();
    let on_console = |color: &str, no_color: Option<&str>| {
        // `script` runs the line through sh: quoted, the backslashes stay.
        let line = format!("wine '{}' analyze --color {color} '{p}'", exe.display());
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"])
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env_remove("NO_COLOR")
            .env("COLUMNS", "100")
            .current_dir(root());
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        // On the console wine's own fatal errors (exit 1, as `analyze` with findings) reach
        // standard output too: a run without the report is wine's (see `under_wine`).
        let out = retried(
            || c.output().expect("script"),
            |out| !stdout(out).contains("FM002"),
        );
        assert_eq!(out.status.code(), Some(1), "{color}: {out:?}");
        stdout(&out)
    };
    let auto = on_console("auto", None);
    assert!(auto.contains("FM002"), "{auto}");
    assert!(auto.contains(red_error), "{auto:?}");
    let no_color = on_console("auto", Some("1"));
    assert!(
        no_color.contains("FM002") && !no_color.contains(red_error),
        "{no_color:?}"
    );
    let never = on_console("never", None);
    assert!(
        never.contains("FM002") && !never.contains(red_error),
        "{never:?}"
    );
    let always = on_console("always", Some("1"));
    assert!(always.contains(red_error), "{always:?}");
}
