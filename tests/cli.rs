//! The binary's contract: bad input → exit 2 with one line naming the file; damaged
//! captures still analysed; completions for every shell and the manual pages in
//! `completions/` are current.

mod common;
#[path = "cli/manuals.rs"]
mod manuals;

use common::*;

#[test]
fn bad_inputs_exit_2_with_one_line_naming_the_file() {
    for (name, what) in [
        ("not-a-capture.pcap", "not a pcap or pcapng"),
        ("empty.pcap", "empty file"),
        ("random.pcap", "not a pcap or pcapng"),
    ] {
        let p = testdata(&format!("reader/{name}"));
        for cmd in ["messages", "analyze"] {
            let out = sipdiag(&[cmd, p.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {name}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(name) && err.contains(what), "{err}");
        }
    }
    let out = sipdiag(&["messages", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn damaged_captures_are_still_analysed() {
    for (name, kind, messages) in [
        ("truncated.pcap", "truncated", 5),
        ("corrupt-record.pcap", "corrupt-record", 3),
        ("snaplen-cut.pcap", "sip-cut", 7),
    ] {
        let p = testdata(&format!("reader/{name}"));
        let out = sipdiag(&["messages", "--format", "json", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["messages"].as_array().unwrap().len(), messages, "{name}");
        let kinds: Vec<&str> = v["captures"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&kind), "{name}: {kinds:?}");
        // analyze turns it into CAP001; the exit code follows the findings (a warning).
        let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "CAP001"),
            "{name}"
        );
        let out = sipdiag(&["analyze", "--fail-on", "warning", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
    }
}

#[test]
fn reads_standard_input() {
    let p = testdata("reader/gzipped-noext.pcap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["messages", "--format", "json", "-"])
        .stdin(std::fs::File::open(p).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"].as_array().unwrap().len(), 7);
}

/// SIP over TLS only: the SIP is there, only encrypted, so the headline is CAP003 (error),
/// not CAP002 "no SIP".
#[test]
fn encrypted_sip_is_cap003_not_cap002() {
    let p = testdata("reader/tls.pcap");
    let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CAP003"]);
    assert_eq!(v["findings"][0]["severity"], "error");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn completions_are_current() {
    for (shell, file) in [
        (clap_complete::Shell::Bash, "sipdiag.bash"),
        (clap_complete::Shell::Zsh, "_sipdiag"),
        (clap_complete::Shell::Fish, "sipdiag.fish"),
        (clap_complete::Shell::PowerShell, "_sipdiag.ps1"),
        (clap_complete::Shell::Elvish, "sipdiag.elv"),
    ] {
        let mut v = Vec::new();
        sipdiag::app::write_completions(shell, &mut v);
        let path = root().join("completions").join(file);
        if std::env::var_os("SIPDIAG_UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &v).unwrap();
        }
        let have = std::fs::read(&path).unwrap_or_default();
        assert!(
            have == v,
            "completions/{file} is stale: run `SIPDIAG_UPDATE_COMPLETIONS=1 cargo test --test cli`"
        );
    }
}

#[test]
fn media_command_pairs_stun_and_counts_rtp() {
    let p = testdata("media/ice-ok-rtp.pcap");
    let out = sipdiag(&["media", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["media"];
    let stun = m["stun"].as_array().unwrap();
    let req: Vec<u64> = stun
        .iter()
        .map(|s| s["request_frame"].as_u64().unwrap())
        .collect();
    let resp: Vec<u64> = stun
        .iter()
        .map(|s| s["response_frame"].as_u64().unwrap())
        .collect();
    assert_eq!(req, [10, 12, 14]);
    assert_eq!(resp, [11, 13, 15]);
    let rtp = m["rtp"].as_array().unwrap();
    assert_eq!(rtp.len(), 2);
    for r in rtp {
        assert_eq!(r["packets"], 100);
        assert_eq!(r["lost"], 0);
    }
    let p = testdata("media/rtp-loss.pcap");
    let out = sipdiag(&["media", "--format", "json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lost: Vec<i64> = v["media"]["rtp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lost"].as_i64().unwrap())
        .collect();
    assert!(lost.contains(&10) && lost.contains(&0), "{lost:?}");
}

#[test]
fn json_schema_is_current_and_matches_output() {
    let generated = sipdiag::report::analysis::json_schema();
    let path = root().join("src/report/analyze.schema.json");
    if std::env::var_os("SIPDIAG_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == generated,
        "src/report/analyze.schema.json is stale: run `SIPDIAG_UPDATE_SCHEMA=1 cargo test --test cli`"
    );
    // A real report carries every property the schema requires, at the top and per finding.
    let schema: serde_json::Value = serde_json::from_str(&generated).unwrap();
    let p = testdata("followme/fm002-intl00.pcap");
    let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(
            report.get(key.as_str().unwrap()).is_some(),
            "report lacks {key}"
        );
    }
    let finding_schema = &schema["$defs"]["ReportedFinding"];
    for key in finding_schema["required"].as_array().unwrap() {
        assert!(
            report["findings"][0].get(key.as_str().unwrap()).is_some(),
            "finding lacks {key}"
        );
    }
    // Version 2: findings refer to the one shared suggestion by index.
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["findings"][0]["suggestion"], 0);
    assert!(report["suggestions"][0]["xcc_diversion_pattern"].is_string());
    for key in ["calls", "followme_linked", "answered", "failed"] {
        assert!(report["summary"][key].is_u64(), "summary lacks {key}");
    }
}

/// Drops record `n` (1-based) from a classic pcap.
fn drop_record(pcap: &[u8], n: usize) -> Vec<u8> {
    let mut out = pcap[..24].to_vec();
    let mut off = 24;
    let mut i = 0;
    while off + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[off + 8..off + 12].try_into().unwrap()) as usize;
        i += 1;
        if i != n {
            out.extend_from_slice(&pcap[off..off + 16 + len]);
        }
        off += 16 + len;
    }
    out
}

#[test]
fn lost_fragment_is_cap004() {
    // ipfrag-v4.pcap: frame 1 is the first fragment of the INVITE, frame 2 completes it.
    let bytes = std::fs::read(testdata("reader/ipfrag-v4.pcap")).unwrap();
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lost-fragment.pcap");
    std::fs::write(&p, drop_record(&bytes, 1)).unwrap();
    let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CAP004")
        .expect("CAP004");
    assert_eq!(f["frames"][0], 1, "the orphan fragment, now frame 1");
    assert_eq!(
        v["captures"][0]["sip_messages"], 6,
        "the INVITE is lost, the rest read"
    );
}

#[test]
fn man_pages_are_current() {
    let pages = manuals::manual_pages();
    let update = std::env::var_os("SIPDIAG_UPDATE_COMPLETIONS").is_some();
    let dir = root().join("completions");
    let mut stale = Vec::new();
    for (file, text) in &pages {
        let path = dir.join(file);
        if update {
            std::fs::write(&path, text).unwrap();
        }
        if std::fs::read(&path).unwrap_or_default() != *text {
            stale.push(file.clone());
        }
    }
    // A page left behind by a renamed or removed command is stale too.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".1") && !pages.iter().any(|(f, _)| *f == file) {
            if update {
                std::fs::remove_file(dir.join(&file)).unwrap();
            } else {
                stale.push(file);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "completions/{stale:?} stale: run `SIPDIAG_UPDATE_COMPLETIONS=1 cargo test --test cli`"
    );
}

#[test]
fn man_pages_cover_every_command_and_refer_to_each_other() {
    use clap::CommandFactory;
    let pages = manuals::manual_pages();
    let files: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    // Every visible subcommand, nested ones too, has its page.
    let cli = sipdiag::cli::Cli::command();
    let mut want = vec!["sipdiag.1".to_string()];
    let mut top = Vec::new();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        want.push(format!("sipdiag-{}.1", sub.get_name()));
        top.push(format!("sipdiag-{}", sub.get_name()));
        for nested in sub.get_subcommands().filter(|s| !s.is_hide_set()) {
            want.push(format!(
                "sipdiag-{}-{}.1",
                sub.get_name(),
                nested.get_name()
            ));
        }
    }
    for w in &want {
        assert!(files.contains(&w.as_str()), "no page {w} in {files:?}");
    }
    assert_eq!(files.len(), want.len(), "{files:?}");
    for f in [
        "sipdiag-analyze.1",
        "sipdiag-messages.1",
        "sipdiag-ipo-route.1",
    ] {
        assert!(files.contains(&f), "{f}");
    }
    assert!(top.len() >= 9, "{top:?}");
    assert!(!files.contains(&"sipdiag-help.1"), "help needs no page");
    let text = |f: &str| {
        let (_, t) = pages.iter().find(|(n, _)| n == f).unwrap();
        String::from_utf8(t.clone()).unwrap()
    };
    // The main page names every other page under SEE ALSO, and each page refers back.
    let main = text("sipdiag.1");
    let see_also = &main[main.find(".SH \"SEE ALSO\"").expect("SEE ALSO")..];
    for t in &top {
        let roff = t.replace('-', "\\-");
        assert!(
            see_also.contains(&format!("\\%\\fB{roff}\\fR(1)")),
            "{t}: {see_also}"
        );
    }
    assert!(!main.contains("sipdiag\\-help"), "{main}");
    for t in &top {
        let page = text(&format!("{t}.1"));
        assert!(
            page.contains("\\%\\fBsipdiag\\fR(1)"),
            "{t} refers to sipdiag(1)"
        );
    }
    // A subcommand's page carries its own options: analyze documents --fail-on.
    assert!(text("sipdiag-analyze.1").contains("\\-\\-fail\\-on"));
    let pattern = text("sipdiag-pattern.1");
    assert!(
        pattern.contains("\\%\\fBsipdiag\\-pattern\\-test\\fR(1)"),
        "{pattern}"
    );
    assert!(text("sipdiag-pattern-test.1").contains("\\%\\fBsipdiag\\-pattern\\fR(1)"));
}

/// Each page as man renders it at 80 columns: no warning, and SEE ALSO names every other
/// page whole (never hyphenated across lines).
#[test]
fn man_pages_render_cleanly() {
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: man (man-db) is not installed; the pages are checked as text only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in manuals::manual_pages() {
        let path = dir.path().join(&file);
        std::fs::write(&path, &text).unwrap();
        let out = std::process::Command::new("man")
            .args(["--warnings=w", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env_remove("MAN_KEEP_FORMATTING")
            .env_remove("MANPAGER")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{file}");
        let shown = String::from_utf8_lossy(&out.stdout);
        let see_also = &shown[shown.find("SEE ALSO").expect(&file)..];
        let names = String::from_utf8_lossy(&text);
        let names = &names[names.find(".SH \"SEE ALSO\"").unwrap()..];
        for name in names.lines().skip(1).filter_map(|l| l.split("\\fB").nth(1)) {
            let name = name.split("\\fR").next().unwrap().replace("\\-", "-");
            assert!(
                see_also.contains(&format!("{name}(1)")),
                "{file}: {name} in {see_also}"
            );
        }
    }
}

#[test]
fn long_listings_stream_as_plain_columns() {
    let Some(corpus) = corpus() else { return };
    // 8,989 SIP messages: more than a boxed table keeps.
    let p = corpus.join("goffinet/branch-scenario-sipp.pcapng");
    let out = sipdiag(&["messages", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Frame  Time"), "{}", lines[0]);
    assert!(!text.contains('│'), "no box drawing in the streamed form");
    let rows = lines
        .iter()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .count();
    assert_eq!(rows, 8989);
    assert!(lines.last().unwrap().contains("8989 SIP messages"));
    // A short listing has the same layout: the same header, plain columns.
    let p = testdata("reader/udp-call.pcap");
    let short = stdout(&sipdiag(&["messages", p.to_str().unwrap()]));
    assert!(short.starts_with("Frame  Time"), "{short}");
    assert!(!short.contains('│'), "{short}");
}

#[test]
fn text_on_standard_input_is_named_as_text() {
    // Standard input cannot be read twice: the error must come from the bytes read once.
    let p = testdata("README.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["messages", "-"])
        .stdin(std::fs::File::open(p).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("text"), "{err}");
    assert!(!err.contains("empty file"), "{err}");
}
