//! `sipdiag analyze` on the Follow-Me fixtures (sipp playing PBX and XCC, captured with
//! tcpdump; see testdata/followme/README.md): rule ids, frames, suggestion, exit code.

mod common;

use common::*;
use serde_json::Value;

fn analyze(fixture: &str, extra: &[&str]) -> (Value, i32) {
    let path = testdata(&format!("followme/{fixture}"));
    let mut args = vec!["analyze", "--format", "json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = sipdiag(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{fixture}: bad JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

const SITE: &[&str] = &[
    "--country-code",
    "49",
    "--internal-length",
    "3",
    "--outside-prefix",
    "0",
];

#[test]
fn healthy_follow_me_calls_raise_nothing() {
    for fixture in [
        "healthy-diversion-udp.pcap",
        "healthy-history-info-tcp.pcap",
    ] {
        let (v, code) = analyze(fixture, SITE);
        let bad: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        assert!(bad.is_empty(), "{fixture}: {bad:?}");
        assert_eq!(code, 0, "{fixture}");
        // Both legs are found and linked to each other.
        let calls = v["calls"].as_array().unwrap();
        let first = calls
            .iter()
            .find(|c| c["leg"] == "first")
            .expect("first leg");
        let second = calls
            .iter()
            .find(|c| c["leg"] == "second")
            .expect("second leg");
        assert_eq!(first["linked_call_ids"][0], second["call_id"], "{fixture}");
        assert_eq!(second["linked_call_ids"][0], first["call_id"], "{fixture}");
        assert_eq!(first["final_status"], 200);
        assert_eq!(v["roles"]["xcc"][0], "127.0.0.20", "{fixture}");
        assert_eq!(v["roles"]["pbx"][0], "127.0.0.10", "{fixture}");
    }
}

#[test]
fn fm001_no_invite() {
    let (v, code) = analyze("fm001-no-invite.pcap", &["--xcc", "127.0.0.20"]);
    assert_eq!(ids(&v), ["FM001"]);
    assert_eq!(code, 1);
    assert_eq!(finding(&v, "FM001")["severity"], "error");
    // XCC names itself on its OPTIONS: identified without --xcc, the same error.
    let (v, code) = analyze("fm001-no-invite.pcap", &[]);
    assert_eq!(ids(&v), ["FM001"]);
    assert_eq!(finding(&v, "FM001")["severity"], "error");
    assert_eq!(v["roles"]["xcc"][0], "127.0.0.20");
    assert_eq!(code, 1);
    assert!(
        finding(&v, "FM001")["message"]
            .as_str()
            .unwrap()
            .contains("OPTIONS")
    );
}

/// Each wrong number format: FM002 with a rewrite proven on the observed number.
#[test]
fn fm002_each_format_gets_a_proven_rewrite() {
    for (fixture, observed, rewrite, normalized) in [
        (
            "fm002-intl00.pcap",
            "004930123456",
            r"^00(\d+)$",
            "+4930123456",
        ),
        (
            "fm002-national0.pcap",
            "030123456",
            r"^0([1-9]\d+)$",
            "+4930123456",
        ),
        ("fm002-prefix99.pcap", "99123", r"^99(\d{3})$", "123"),
        ("fm002-plus-internal.pcap", "+123", r"^\+(\d{3})$", "123"),
        (
            "fm002-outside-prefix.pcap",
            "0004930123456",
            r"^000(\d+)$",
            "+4930123456",
        ),
    ] {
        // XCC does not name itself in these two: only --xcc makes it XCC.
        let xcc: &[&str] = match fixture {
            "fm002-national0.pcap" | "fm002-plus-internal.pcap" => &["--xcc", "127.0.0.20"],
            _ => &[],
        };
        let (v, code) = analyze(fixture, &[SITE, xcc].concat());
        assert_eq!(ids(&v), ["FM002"], "{fixture}");
        assert_eq!(code, 1, "{fixture}");
        let f = finding(&v, "FM002");
        assert_eq!(frames(f)[..3], [1, 2, 3], "{fixture}: INVITE, 100, 503");
        let s = suggestion(&v, f);
        assert_eq!(s["kind"], "xcc_diversion_pattern");
        assert_eq!(s["observed"][0], observed, "{fixture}");
        assert_eq!(s["normalized"][0], normalized, "{fixture}");
        assert_eq!(s["rewrite"]["match"], rewrite, "{fixture}");
        assert_eq!(s["syntax_verified"], false);
        assert_eq!(s["proof"][0]["understood_by_xcc"], true);
        let pattern = s["xcc_diversion_pattern"].as_str().unwrap();
        assert!(
            pattern.starts_with('[') && !pattern.ends_with(']'),
            "{pattern}"
        );
    }
}

#[test]
fn fm002_builds_on_the_current_pattern() {
    let mut args = SITE.to_vec();
    args.extend(["--current-pattern", r"[^\+49(\d+)"]);
    let (v, _) = analyze("fm002-intl00.pcap", &args);
    let p = suggestion(&v, finding(&v, "FM002"))["xcc_diversion_pattern"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(p, r"[^\+49(\d+)]||[^00(\d+)$=>+$1");
}

#[test]
fn fm003_without_diversion_and_fm004_unknown_user() {
    let (v, code) = analyze("fm003-no-diversion.pcap", &["--xcc", "127.0.0.20"]);
    assert_eq!(ids(&v), ["FM003"]);
    assert_eq!(code, 1);
    let (v, _) = analyze("fm004-user-unknown.pcap", SITE);
    assert_eq!(ids(&v), ["FM004"]);
    assert!(
        finding(&v, "FM004")["title"]
            .as_str()
            .unwrap()
            .contains("+4930999999")
    );
}

#[test]
fn select_ignore_and_fail_on_drive_the_exit_code() {
    let (v, code) = analyze("fm002-intl00.pcap", &["--ignore", "diversion-format"]);
    assert!(ids(&v).is_empty());
    assert_eq!(code, 0);
    let (_, code) = analyze("fm002-intl00.pcap", &["--fail-on", "none"]);
    assert_eq!(code, 0);
    let (v, code) = analyze("fm002-intl00.pcap", &["--severity", "FM002=warning"]);
    assert_eq!(finding(&v, "FM002")["severity"], "warning");
    assert_eq!(code, 0, "a warning does not fail with --fail-on error");
    let (_, code) = analyze(
        "fm002-intl00.pcap",
        &["--severity", "FM002=warning", "--fail-on", "warning"],
    );
    assert_eq!(code, 1);
    let (v, _) = analyze("fm002-intl00.pcap", &["--select", "FM001"]);
    assert!(ids(&v).is_empty());
}

#[test]
fn json_carries_the_contract_fields() {
    let (v, _) = analyze("fm002-intl00.pcap", SITE);
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["tool"]["name"], "sipdiag");
    for key in ["site", "captures", "calls", "findings", "summary"] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    let f = finding(&v, "FM002");
    for key in [
        "id",
        "slug",
        "severity",
        "title",
        "message",
        "call_id",
        "frames",
        "evidence",
        "suggestion",
        "wireshark_filter",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}");
    }
    assert_eq!(v["summary"]["error"], 1);
    let c = &v["calls"][0];
    for key in [
        "call_id",
        "leg",
        "linked_call_ids",
        "from",
        "to",
        "diversion",
        "invite_frame",
        "final_status",
        "final_frame",
    ] {
        assert!(c.get(key).is_some(), "call lacks {key}");
    }
    assert_eq!(c["final_status"], 503);
    assert_eq!(c["final_frame"], 3);
}

#[test]
fn markdown_and_table_reports() {
    let path = testdata("followme/fm002-intl00.pcap");
    let out = sipdiag(&["analyze", "--format", "markdown", path.to_str().unwrap()]);
    let md = stdout(&out);
    assert!(md.starts_with("## sipdiag report"), "{md}");
    assert!(
        md.contains("### 1. FM002 diversion-format (error): "),
        "{md}"
    );
    assert!(md.contains("Rewrite: ^00(\\d+)$ → +$1"), "{md}");
    assert!(
        md.contains("frame 1: Diversion: <sip:004930123456@127.0.0.10>"),
        "the proof is quoted: {md}"
    );
    let out = sipdiag(&["analyze", path.to_str().unwrap()]);
    let t = stdout(&out);
    assert!(t.contains("FM002 diversion-format"));
    assert!(t.contains("004930123456 → +4930123456 (E.164)"));
    assert!(
        !t.contains('\u{1b}'),
        "no colour when NO_COLOR is set / not a terminal"
    );
}

#[test]
fn pattern_test_on_values_and_captures() {
    let out = sipdiag(&[
        "pattern",
        "test",
        "--rewrite",
        r"^00(\d+)$=>+$1",
        "--value",
        "004930123456",
        "--value",
        "<sip:0049301111@pbx>;reason=unconditional",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["rewritten"], "+4930123456");
    assert_eq!(v["results"][1]["rewritten"], "+49301111");
    assert_eq!(out.status.code(), Some(0));
    let cap = testdata("followme/fm002-prefix99.pcap");
    let out = sipdiag(&[
        "pattern",
        "test",
        "--rewrite",
        r"^00(\d+)$=>+$1",
        cap.to_str().unwrap(),
        "--internal-length",
        "3",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "99123 stays unrecognised with this rewrite"
    );
    assert!(stdout(&out).contains("99123"));
}

#[test]
fn rules_and_explain() {
    let out = sipdiag(&["rules"]);
    let t = stdout(&out);
    for id in ["CAP001", "FM001", "FM010", "SIP001", "SP001", "SP006"] {
        assert!(t.contains(id), "{id} missing from `sipdiag rules`");
    }
    let out = sipdiag(&["explain", "diversion-format"]);
    let t = stdout(&out);
    for section in ["What it checks", "Why it matters", "How to fix", "Example"] {
        assert!(t.contains(section));
    }
    assert!(sipdiag(&["explain", "NOPE999"]).status.code() == Some(2));
}

/// Second-leg and trunk failures: (fixture, rule, frames the finding must cite).
#[test]
fn trunk_and_second_leg_rules() {
    for (fixture, rule, must_cite) in [
        ("fm005-wrong-trunk.pcap", "FM005", &[1u64, 3][..]),
        ("fm006-second-leg-404.pcap", "FM006", &[4, 6]),
        ("fm006-second-leg-484.pcap", "FM006", &[4, 6]),
        ("fm007-second-leg-488.pcap", "FM007", &[4, 6]),
        ("fm007-no-common-codec.pcap", "FM007", &[4, 7, 9]),
        ("fm008-second-leg-403.pcap", "FM008", &[4, 6]),
        ("fm008-second-leg-407-noretry.pcap", "FM008", &[4, 6]),
        // fm009-second-leg-cancel.pcap rang and was cancelled: FM011 (tests/diag_rules.rs).
        ("fm009-second-leg-500.pcap", "FM009", &[4, 6]),
        ("fm010-invite-unanswered.pcap", "FM010", &[1, 2, 3, 4]),
    ] {
        // Nothing answers in fm010, so nothing names XCC: only --xcc makes it XCC.
        let xcc: &[&str] = if rule == "FM010" {
            &["--xcc", "127.0.0.20"]
        } else {
            &[]
        };
        let (v, code) = analyze(fixture, &[SITE, xcc].concat());
        let found = ids(&v);
        assert_eq!(found, [rule], "{fixture}: exactly {rule}, got {found:?}");
        assert_eq!(code, 1, "{fixture}");
        let f = frames(finding(&v, rule));
        for fr in must_cite {
            assert!(
                f.contains(fr),
                "{fixture}: {rule} cites {f:?}, not frame {fr}"
            );
        }
    }
    let (v, _) = analyze("fm007-second-leg-488.pcap", SITE);
    let ev = &finding(&v, "FM007")["evidence"];
    assert!(
        ev["offer_codecs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "G722"),
        "{ev}"
    );
    let (v, _) = analyze("fm008-second-leg-403.pcap", SITE);
    assert!(
        finding(&v, "FM008")["message"]
            .as_str()
            .unwrap()
            .contains("XccLineNumberAsClipSecondLeg = True")
    );
    // The second leg is linked to the first one in the report.
    let calls = v["calls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["leg"] == "second" && c["linked_call_ids"].as_array().unwrap().len() == 1)
    );
}

#[test]
fn sip001_and_damaged_follow_me_capture() {
    let (v, code) = analyze("sip001-invite-failed.pcap", SITE);
    assert_eq!(ids(&v), ["SIP001"]);
    assert_eq!(code, 0, "SIP001 is a warning");
    assert_eq!(frames(finding(&v, "SIP001"))[..3], [1, 2, 3]);
    let (v, _) = analyze("cap-followme-truncated.pcap", SITE);
    // The 00 number is still diagnosed (FM002 at warning level, tests/diag_rules.rs).
    assert_eq!(ids(&v), ["FM002", "CAP001"]);
    assert_eq!(v["captures"][0]["sip_messages"], 2);
}

/// Every public capture runs through `analyze` without sipdiag failing, and what it says
/// about the ones with a known story is plausible.
#[test]
fn public_captures_run_and_findings_are_plausible() {
    let Some(corpus) = corpus() else { return };
    let rows = tsv(&testdata("oracle/sip-counts.tsv"), "path\t");
    let known_unreadable = ["sipnab/c07-sip-r2.cap"];
    for r in &rows {
        let p = corpus.join(&r[0]);
        let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
        let code = out.status.code();
        if known_unreadable.contains(&r[0].as_str()) {
            assert_eq!(code, Some(2), "{}", r[0]);
            continue;
        }
        assert!(
            matches!(code, Some(0) | Some(1)),
            "{}: exit {code:?} {}",
            r[0],
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", r[0]));
        assert_eq!(v["schema_version"], 2);
    }
    // 488 Not Acceptable Here is reported as a codec rejection.
    let p = corpus.join("goffinet/sip-488-Not-Acceptable-Here-codec-null.pcapng");
    let (v, _) = {
        let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), 0)
    };
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["evidence"]["status"] == 488)
        .expect("488 finding");
    assert!(
        f["message"].as_str().unwrap().contains("Codec rejection"),
        "{f}"
    );
    assert_eq!(f["frames"][0], 10);
    // A T.38 fax offer (m=image udptl t38 and no audio) answered 488 is a fax rejection,
    // not one of voice codecs (tshark: frames 3104 and 3107 offer `image 16756 udptl t38`
    // and `image … udptl t38`, answered 488 in frames 3114 and 3112).
    let p = corpus.join("heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fax: Vec<(u64, &str)> = (v["findings"].as_array().unwrap().iter())
        .filter(|f| f["evidence"]["status"] == 488)
        .map(|f| {
            (
                f["frames"][0].as_u64().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(fax.iter().map(|f| f.0).collect::<Vec<_>>(), [3104, 3107]);
    for (_, m) in &fax {
        assert!(
            m.contains("Fax rejection: the INVITE offers T.38 fax only") && !m.contains("()"),
            "{m}"
        );
    }
    // History-Info is read: the number of the forwarded call appears in the call list.
    let p = corpus.join("goffinet/voip-extension.pcap");
    let out = sipdiag(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["invite_frame"] == 581)
        .unwrap();
    assert_eq!(c["diversion"][0], "204");
    // A capture of only REGISTER traffic is not an error.
    let p = corpus.join("goffinet/sip-register-ok-unregister.pcapng");
    assert_eq!(
        sipdiag(&["analyze", p.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn site_file_supplies_the_dialling_plan_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        "country_code = \"49\"\ninternal_length = 3\noutside_prefix = \"0\"\ncurrent_pattern = '[^\\+49(\\d+)'\nknown_users = [\"+4930123456\"]\n",
    )
    .unwrap();
    let s = site.to_str().unwrap();
    let (v, _) = analyze("fm002-prefix99.pcap", &["--site", s]);
    assert_eq!(v["site"]["internal_length"], 3);
    let f = finding(&v, "FM002");
    assert_eq!(suggestion(&v, f)["rewrite"]["match"], r"^99(\d{3})$");
    assert_eq!(
        suggestion(&v, f)["xcc_diversion_pattern"],
        r"[^\+49(\d+)]||[^99(\d{3})$=>$1"
    );
    // A flag overrides the file: with internal length 5, 99123 is an internal number.
    let (v, _) = analyze(
        "fm002-prefix99.pcap",
        &["--site", s, "--internal-length", "5"],
    );
    assert_eq!(ids(&v), ["FM004"]);
    // A broken site file is a tool error naming the file.
    std::fs::write(&site, "internal_length = \"three\"\n").unwrap();
    let p = testdata("followme/fm002-prefix99.pcap");
    let out = sipdiag(&["analyze", p.to_str().unwrap(), "--site", s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("site.toml"));
}

#[test]
fn markdown_shows_both_legs() {
    let p = testdata("followme/fm006-second-leg-404.pcap");
    let md = stdout(&sipdiag(&[
        "analyze",
        "--format",
        "markdown",
        p.to_str().unwrap(),
    ]));
    assert!(md.contains("#### Follow-Me legs"), "{md}");
    assert!(
        md.contains("| first |") && md.contains("| second |"),
        "{md}"
    );
}

/// Frame numbers are per file: with two captures, each finding cites its frames by file.
#[test]
fn findings_name_the_capture_their_frames_belong_to() {
    let a = testdata("followme/fm002-intl00.pcap");
    let b = testdata("followme/fm010-invite-unanswered.pcap");
    let out = sipdiag(&[
        "analyze",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fm002 = finding(&v, "FM002");
    let fm010 = finding(&v, "FM010");
    // Read merged: each frame cited by its file, from frame 1 of that file.
    assert_eq!(
        fm002["frames"][0],
        serde_json::json!({"capture": a.to_str().unwrap(), "frame": 1})
    );
    assert_eq!(
        fm010["frames"][0],
        serde_json::json!({"capture": b.to_str().unwrap(), "frame": 1})
    );
}

#[test]
fn role_overrides_are_used_and_reported() {
    let (v, _) = analyze(
        "fm002-intl00.pcap",
        &["--xcc", "127.0.0.20:5060", "--pbx", "127.0.0.10"],
    );
    let reasons = v["roles"]["reasons"].to_string();
    assert!(
        reasons.contains("--xcc") && reasons.contains("--pbx"),
        "{reasons}"
    );
    assert_eq!(ids(&v), ["FM002"]);
    // Naming the wrong port for XCC means the INVITE did not reach XCC.
    let (v, _) = analyze("fm002-intl00.pcap", &["--xcc", "127.0.0.20:5099"]);
    assert!(!ids(&v).contains(&"FM002".to_string()), "{:?}", ids(&v));
    assert!(
        sipdiag(&[
            "analyze",
            "--xcc",
            "not-an-address",
            testdata("followme/fm002-intl00.pcap").to_str().unwrap()
        ])
        .status
        .code()
            == Some(2)
    );
}
