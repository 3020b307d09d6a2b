//! What a support engineer reads besides the report: one `sipdiag:` error line per
//! problem, help text on every argument, examples at the end of every `--help`, a strict
//! `--site` file, and `--color`.

use std::process::Command;

use super::common::{self, sipdiag};

/// Every command and subcommand, with its path (`["pattern", "test"]`).
fn commands(c: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
    out.push((path.clone(), c.clone()));
    for sub in c.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        commands(sub, p, out);
    }
}

#[test]
fn every_argument_has_help_and_every_help_ends_with_examples() {
    use clap::CommandFactory;
    let mut all = Vec::new();
    commands(&sipdiag::cli::Cli::command(), Vec::new(), &mut all);
    assert!(all.len() >= 9, "{} commands", all.len());
    for (path, c) in &all {
        for a in c.get_arguments() {
            let id = a.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let help = a.get_help().or(a.get_long_help()).map(|h| h.to_string());
            assert!(
                help.is_some_and(|h| h.trim().len() > 5),
                "`sipdiag {}` argument {id} has no help text",
                path.join(" ")
            );
        }
        // The rendered --help, as the user sees it, ends with 2-3 examples.
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = sipdiag(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let tail = text
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| {
                panic!(
                    "`sipdiag {}` --help has no examples:\n{text}",
                    path.join(" ")
                )
            })
            .1;
        let examples: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            (2..=3).contains(&examples.len())
                && examples
                    .iter()
                    .all(|l| l.starts_with("  ") && l.contains("sipdiag ")),
            "`sipdiag {}` --help examples: {examples:?}",
            path.join(" ")
        );
        // Examples of a subcommand use that subcommand.
        if let Some(name) = path.first() {
            assert!(
                examples
                    .iter()
                    .all(|l| l.contains(&format!("sipdiag {name}"))),
                "{examples:?}"
            );
        }
    }
}

fn stderr_lines(o: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_missing_file_is_one_error_line_with_its_cause_once() {
    for cmd in ["messages", "calls", "analyze", "media"] {
        let o = sipdiag(&[cmd, "/nonexistent/x.pcap"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let lines = stderr_lines(&o);
        assert_eq!(lines.len(), 1, "{cmd}: {lines:?}");
        assert!(
            lines[0].starts_with("sipdiag: /nonexistent/x.pcap: cannot open: "),
            "{lines:?}"
        );
        assert_eq!(
            lines[0].matches("No such file or directory").count(),
            1,
            "{lines:?}"
        );
    }
}

#[test]
fn usage_errors_are_one_line_too() {
    for (args, starts, contains) in [
        (
            vec!["analyze", "--selct", "FM002", "x.pcap"],
            "sipdiag: unexpected argument '--selct' found",
            "a similar argument exists: '--select'",
        ),
        (
            vec!["rules", "--format", "xml"],
            "sipdiag: invalid value 'xml' for '--format <FORMAT>'",
            "[possible values: table, json]",
        ),
        (
            vec!["analyze"],
            "sipdiag: the following required arguments were not provided: <CAPTURE>...",
            "(usage: sipdiag analyze",
        ),
    ] {
        let o = sipdiag(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let lines = stderr_lines(&o);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(starts) && lines[0].contains(contains),
            "{lines:?}"
        );
    }
}

#[test]
fn a_truncated_gzip_capture_says_so() {
    // The committed gzip fixture, cut inside its gzip header, and inside its compressed data.
    let whole = std::fs::read(common::testdata("reader/gzipped.pcap.gz")).expect("fixture");
    let dir = tempfile::tempdir().expect("temp dir");
    let cut = |n: usize| {
        let p = dir.path().join(format!("cut{n}.pcap.gz"));
        std::fs::write(&p, &whole[..n]).expect("write");
        p.to_str().unwrap().to_string()
    };
    // Nothing decompressed: nothing to analyse, one error line.
    let header = cut(5);
    let o = sipdiag(&["analyze", &header]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr_lines(&o),
        vec![format!(
            "sipdiag: {header}: cannot read: the gzip-compressed data ends early: the file was cut short (an interrupted copy or download?)"
        )]
    );
    // Cut in the data: the frames before the cut are analysed, and CAP001 says why the
    // capture ends there (a damaged capture is a finding, not a tool error).
    let data = cut(whole.len() - 14);
    let v = analyze_json(&[&data]);
    let capture = &v["captures"][0];
    let frames = capture["frames"].as_u64().expect("frames");
    assert!(frames >= 2, "{capture:#}");
    let cap001: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "CAP001")
        .collect();
    assert_eq!(cap001.len(), 1, "{:#}", v["findings"]);
    let msg = cap001[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("the gzip-compressed data ends early")
            && msg.contains(&format!("after frame {frames}")),
        "{msg}"
    );
}

#[test]
fn each_unreadable_capture_gets_its_own_line_after_the_report() {
    let good = common::testdata("followme/fm002-intl00.pcap");
    let bad = common::testdata("reader/not-a-capture.pcap");
    let o = sipdiag(&[
        "analyze",
        "/nonexistent/a.pcap",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines = stderr_lines(&o);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("sipdiag: /nonexistent/a.pcap: cannot open: "),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "sipdiag: {}: not a pcap or pcapng capture",
            bad.display()
        )),
        "{lines:?}"
    );
    // The readable capture is still reported.
    assert!(
        common::stdout(&o).contains("FM002"),
        "{}",
        common::stdout(&o)
    );
}

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["analyze", "--format", "json", "--fail-on", "none"];
    all.extend_from_slice(args);
    let o = sipdiag(&all);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn site_file_takes_numbers_as_numbers_and_rejects_unknown_keys() {
    let capture = common::testdata("followme/fm002-national0.pcap");
    let capture = capture.to_str().unwrap();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write site file");
        p.to_str().unwrap().to_string()
    };
    let numbers = write(
        "numbers.toml",
        "country_code = 49\narea_code = 30\ninternal_length = 3\noutside_prefix = 0\nknown_users = [4930123456, \"+4930999\"]\n",
    );
    let strings = write(
        "strings.toml",
        "country_code = \"49\"\narea_code = \"30\"\ninternal_length = 3\noutside_prefix = \"0\"\nknown_users = [\"4930123456\", \"+4930999\"]\n",
    );
    // XCC named: this fixture's XCC sends no agent string (see testdata/followme/README.md).
    let a = analyze_json(&["--site", &numbers, "--xcc", "127.0.0.20", capture]);
    let b = analyze_json(&["--site", &strings, "--xcc", "127.0.0.20", capture]);
    assert_eq!(a["site"]["country_code"], "49");
    assert_eq!(a["site"]["area_code"], "30");
    assert_eq!(a["site"]["outside_prefix"], "0");
    assert_eq!(a["site"]["known_users"][0], "4930123456");
    assert_eq!(a["site"], b["site"]);
    assert_eq!(a["findings"], b["findings"]);
    // With the country code known, the national number's suggestion is E.164.
    let fm002: Vec<_> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "FM002")
        .collect();
    assert_eq!(fm002.len(), 1, "{:#}", a["findings"]);
    assert!(
        fm002[0]["message"].as_str().unwrap().contains("+4930"),
        "{}",
        fm002[0]["message"]
    );

    let typo = write("typo.toml", "country_code = 49\ninternal_lenght = 3\n");
    let o = sipdiag(&["analyze", "--site", &typo, capture]);
    assert_eq!(o.status.code(), Some(2));
    let lines = stderr_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "sipdiag: {typo}: line 2 `internal_lenght = 3`: unknown field `internal_lenght`"
        )),
        "{lines:?}"
    );

    // A bad value names its file and key, or its flag.
    let range = write("range.toml", "client_media_ports = \"9-1\"\n");
    let o = sipdiag(&["analyze", "--site", &range, capture]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr_lines(&o),
        vec![format!(
            "sipdiag: {range}: client_media_ports: port range \"9-1\": low end above high end"
        )]
    );
    let o = sipdiag(&["analyze", "--server-media-ports", "1-x", capture]);
    assert_eq!(
        stderr_lines(&o),
        vec!["sipdiag: --server-media-ports: port range \"1-x\": invalid digit found in string"]
    );

    let bad = write("bad.toml", "country_code = 4.9\n");
    let o = sipdiag(&["analyze", "--site", &bad, capture]);
    assert_eq!(o.status.code(), Some(2));
    let lines = stderr_lines(&o);
    assert_eq!(
        lines,
        vec![format!(
            "sipdiag: {bad}: line 1 `country_code = 4.9`: expected digits, as a number or a string"
        )]
    );
}

// Colour.

const ESC: &str = "\x1b[";

/// stdout of sipdiag run with `args`, with NO_COLOR set to `no_color` (unset when `None`).
fn colour_run(args: &[&str], no_color: Option<&str>) -> (Option<i32>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipdiag"));
    c.args(args).env_remove("NO_COLOR");
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let o = c.output().expect("run sipdiag");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn color_flag_and_no_color() {
    let fx = common::testdata("followme/fm002-intl00.pcap");
    let fx = fx.to_str().unwrap();
    // Into a pipe: auto means no colour; always colours (the severity), even with NO_COLOR.
    let (_, auto) = colour_run(&["analyze", fx], None);
    assert!(!auto.contains(ESC), "{auto}");
    for no_color in [None, Some("1")] {
        let (code, always) = colour_run(&["analyze", "--color", "always", fx], no_color);
        assert_eq!(code, Some(1), "FM002 is an error");
        // Red (the error severity).
        assert!(always.contains(&format!("{ESC}38;5;9m")), "{always}");
        let (_, never) = colour_run(&["analyze", fx, "--color", "never"], no_color);
        assert!(!never.contains(ESC), "{never}");
        assert_eq!(never, auto);
    }
    // Every command takes the flag.
    for args in [
        vec!["messages", fx],
        vec!["calls", fx],
        vec!["media", fx],
        vec!["rules"],
        vec!["explain", "FM002"],
        vec![
            "pattern",
            "test",
            "--rewrite",
            "^00(\\d+)$=>+$1",
            "--value",
            "0049301",
        ],
    ] {
        for when in ["auto", "always", "never"] {
            let mut a = args.clone();
            a.extend(["--color", when]);
            let (code, _) = colour_run(&a, None);
            assert_eq!(code, Some(0), "{a:?}");
        }
    }
    let (code, _) = colour_run(&["rules", "--color", "sometimes"], None);
    assert_eq!(code, Some(2));
    // clap's help follows the flag too.
    let (code, help) = colour_run(&["analyze", "--help", "--color=always"], None);
    assert_eq!(code, Some(0));
    assert!(help.contains(ESC) && help.contains("Examples:"), "{help}");
    let (_, help) = colour_run(&["--color", "never", "analyze", "--help"], None);
    assert!(!help.contains(ESC), "{help}");
    // On a terminal (script(1) provides one): auto colours unless NO_COLOR is set.
    let script = |no_color: Option<&str>, extra: &str| {
        let cmd = format!("{} analyze {fx}{extra}", env!("CARGO_BIN_EXE_sipdiag"));
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        c.output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    match script(None, "") {
        None => eprintln!("SKIPPED: script(1) is absent; the terminal colour checks need it"),
        Some(tty) => {
            assert!(tty.contains(ESC), "{tty}");
            let tty_no_color = script(Some("1"), "").unwrap();
            assert!(tty_no_color.contains("FM002") && !tty_no_color.contains(ESC));
            // NO_COLOR set but empty does not count (no-color.org).
            assert!(script(Some(""), "").unwrap().contains(ESC));
            let tty_never = script(None, " --color never").unwrap();
            assert!(tty_never.contains("FM002") && !tty_never.contains(ESC));
            let help = script(None, " --help").unwrap();
            assert!(help.contains(ESC), "{help}");
            let help = script(None, " --help --color never").unwrap();
            assert!(help.contains("Examples:") && !help.contains(ESC), "{help}");
        }
    }
}
