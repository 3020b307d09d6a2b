//! `--redact`: every output of every command, on fixtures with numbers of every class,
//! the busy site and public corpus captures, against tshark's list of the personal values
//! in each input (testdata/redact/*.sensitive.tsv, made by testdata/redact/oracle.py).

mod common;

use std::path::PathBuf;

use common::{corpus, sipdiag_wide, stdout, testdata};
use serde_json::Value;

const KEY: &str = "redact-test-key";

/// (oracle name, capture, extra flags).
fn inputs() -> Vec<(&'static str, PathBuf, Vec<&'static str>)> {
    let site = vec![
        "--country-code",
        "49",
        "--internal-length",
        "3",
        "--outside-prefix",
        "0",
    ];
    let mut v = vec![
        (
            "fm002-intl00",
            testdata("followme/fm002-intl00.pcap"),
            site.clone(),
        ),
        (
            "fm002-national0",
            testdata("followme/fm002-national0.pcap"),
            site.clone(),
        ),
        (
            "fm002-outside-prefix",
            testdata("followme/fm002-outside-prefix.pcap"),
            site.clone(),
        ),
        (
            "fm002-plus-internal",
            testdata("followme/fm002-plus-internal.pcap"),
            site.clone(),
        ),
        (
            "fm004-user-unknown",
            testdata("followme/fm004-user-unknown.pcap"),
            site.clone(),
        ),
        (
            "numbers-mixed",
            testdata("followme/numbers-mixed.pcap"),
            vec![],
        ),
        (
            "healthy-history-info-tcp",
            testdata("followme/healthy-history-info-tcp.pcap"),
            vec![],
        ),
        ("busy-site", testdata("followme/busy-site.pcap"), vec![]),
        ("ice-one-way", testdata("media/ice-one-way.pcap"), vec![]),
        ("sip-rtp-both", testdata("media/sip-rtp-both.pcap"), vec![]),
    ];
    if let Some(c) = corpus() {
        v.push((
            "corpus-voip-extension",
            c.join("goffinet/voip-extension.pcap"),
            vec![],
        ));
        v.push((
            "corpus-sip-ipv6-udp",
            c.join("heplify/sip_ipv6_udp.pcap"),
            vec![],
        ));
        v.push((
            "corpus-sip-ipv4-tcp",
            c.join("heplify/sip_ipv4_tcp.pcap"),
            vec![],
        ));
    }
    v
}

/// tshark's personal values of one input: (kind, value).
fn sensitive(name: &str) -> Vec<(String, String)> {
    let path = testdata(&format!("redact/{name}.sensitive.tsv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('\t').expect("kind<TAB>value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Every output of every command that prints capture content, concatenated.
fn all_outputs(capture: &str, extra: &[&str], redact: &[&str]) -> String {
    let mut out = String::new();
    let runs: &[&[&str]] = &[
        &["analyze", "-f", "table", "--verbose", "--flow"],
        &["analyze", "-f", "json"],
        &["analyze", "-f", "markdown", "--verbose"],
        &["messages", "-f", "json"],
        &["messages", "-f", "table"],
        &["calls", "-f", "table", "--verbose"],
        &["calls", "-f", "json"],
        &["media", "-f", "table"],
        &["media", "-f", "json"],
        &["flow", "-f", "text"],
        &["flow", "-f", "mermaid"],
    ];
    for args in runs {
        let mut a: Vec<&str> = args.to_vec();
        // The site flags are analyze's and flow's.
        if matches!(args[0], "analyze" | "flow") {
            a.extend_from_slice(extra);
        }
        a.extend_from_slice(redact);
        a.push(capture);
        let o = sipdiag_wide(&a);
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{a:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out.push_str(&stdout(&o));
        out.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    out
}

/// Where `value` occurs in `text` as itself: not as part of a longer number, address or
/// word. A number of three digits or fewer (an extension) counts only where sipdiag prints
/// numbers (in a URI, a JSON string, a table cell, a ladder's INVITE label), not as a
/// frame number or status code that happens to have the same digits (an extension that
/// reads like a status code is looked for outside table cells only).
fn occurs(text: &str, kind: &str, value: &str) -> bool {
    let (t, v) = (text.to_ascii_lowercase(), value.to_ascii_lowercase());
    let joins = |c: char| match kind {
        "ip" => c.is_ascii_hexdigit() || c == '.' || c == ':',
        "number" => c.is_ascii_digit(),
        _ => c.is_ascii_alphanumeric(),
    };
    t.match_indices(&v).any(|(i, _)| {
        let (head, tail) = (&t[..i], &t[i + v.len()..]);
        let before = head.chars().next_back();
        let after = tail.chars().next();
        if (kind == "name" || kind == "user" || kind == "host") && v.len() >= 5 {
            return true; // long names are leaks anywhere
        }
        if before.is_some_and(joins) || after.is_some_and(joins) {
            return false;
        }
        if kind == "number" && v.len() <= 3 {
            // A table cell also shows status codes: 100-699 count there only as numbers.
            let code = (100..700).contains(&v.parse::<u32>().unwrap_or(0));
            let places: &[&str] = if code {
                &["sip:", "sips:", "tel:", "\"", "invite ", "<"]
            } else {
                &["sip:", "sips:", "tel:", "\"", "┆ ", "│ ", "invite ", "<"]
            };
            let in_number_place = places.iter().any(|p| head.ends_with(p));
            let status = tail.starts_with(' ')
                && tail[1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic());
            return in_number_place && !status;
        }
        true
    })
}

fn findings(json: &str) -> Vec<(String, String, Vec<u64>)> {
    let v: Value = serde_json::from_str(json).expect("analyze JSON");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

fn analyze_json(capture: &str, extra: &[&str], redact: &[&str]) -> String {
    let mut a = vec!["analyze", "-f", "json"];
    a.extend_from_slice(extra);
    a.extend_from_slice(redact);
    a.push(capture);
    stdout(&sipdiag_wide(&a))
}

#[test]
fn no_personal_value_survives_in_any_output() {
    let redact = ["--redact", "--redact-key", KEY];
    for (name, path, extra) in inputs() {
        let capture = path.to_str().unwrap();
        let values = sensitive(name);
        assert!(!values.is_empty(), "{name}: the oracle found nothing");
        // The check itself can see them: without --redact, the outputs show them.
        let plain = all_outputs(capture, &extra, &[]);
        let seen = values.iter().filter(|(k, v)| occurs(&plain, k, v)).count();
        assert!(
            seen > 0,
            "{name}: no value of the oracle in the plain outputs"
        );
        let redacted = all_outputs(capture, &extra, &redact);
        let leaks: Vec<_> = values
            .iter()
            .filter(|(k, v)| occurs(&redacted, k, v))
            .collect();
        assert!(leaks.is_empty(), "{name}: leaked {leaks:?}");
        // The file name too.
        let file = path.file_name().unwrap().to_str().unwrap();
        assert!(!redacted.contains(file), "{name}: {file} printed");
    }
}

/// The SIP messages sipdiag read in each capture.
fn sip_messages(json: &str) -> Vec<u64> {
    let v: Value = serde_json::from_str(json).expect("analyze JSON");
    v["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| c["sip_messages"].as_u64().unwrap())
        .collect()
}

#[test]
fn findings_are_the_same_with_and_without_redaction() {
    let mut all: Vec<(&str, PathBuf, Vec<&str>)> = inputs();
    // Beside the leak-checked inputs: SIP split over TCP segments, and in tunnels. (Not
    // heplify/sip_ipv4_tcp_fragmented.pcap: a Call-ID cut between two segments gets a
    // token other than its whole form there, which splits a call for some keys.)
    if let Some(c) = corpus() {
        for p in [
            "suricata-verify/sip-body-large/sip-body-large.pcap",
            "arkime/gtp-iphone.pcap",
            "heplify/erspan_sip_ipv4_udp.pcapng",
            "ndpi/gre.pcapng",
            "sngrep/ipip.pcap",
            "sngrep/ipv6frag.pcap",
            "heplify/sip_sctp.pcap",
        ] {
            all.push((p, c.join(p), vec![]));
        }
    }
    for (name, path, extra) in all {
        let capture = path.to_str().unwrap();
        let (plain, redacted) = (
            analyze_json(capture, &extra, &[]),
            analyze_json(capture, &extra, &["--redact"]),
        );
        assert_eq!(sip_messages(&plain), sip_messages(&redacted), "{name}");
        let (plain, redacted) = (findings(&plain), findings(&redacted));
        assert_eq!(plain, redacted, "{name}");
        if name.starts_with("fm0") {
            assert!(!plain.is_empty(), "{name}: the fixture has findings");
        }
    }
}

#[test]
fn numbers_keep_their_format_class() {
    let site = [
        "--country-code",
        "49",
        "--internal-length",
        "3",
        "--outside-prefix",
        "0",
    ];
    // (fixture, number as sent, literal prefix it keeps, how FM002 names its format)
    for (fixture, number, kept, label) in [
        (
            "fm002-intl00.pcap",
            "004930123456",
            "0049",
            "international with 00",
        ),
        ("fm002-national0.pcap", "030123456", "0", "national with 0"),
        (
            "fm002-outside-prefix.pcap",
            "0004930123456",
            "00049",
            "outside-line prefix 0",
        ),
        (
            "fm002-plus-internal.pcap",
            "+123",
            "+",
            "superfluous character",
        ),
    ] {
        let capture = testdata(&format!("followme/{fixture}"));
        let capture = capture.to_str().unwrap();
        let mut xcc: Vec<&str> = site.to_vec();
        if matches!(fixture, "fm002-national0.pcap" | "fm002-plus-internal.pcap") {
            xcc.extend(["--xcc", "127.0.0.20"]);
        }
        let json = analyze_json(capture, &xcc, &["--redact", "--redact-key", KEY]);
        let v: Value = serde_json::from_str(&json).unwrap();
        let fm002 = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "FM002")
            .unwrap_or_else(|| panic!("{fixture}: no FM002 in {json}"));
        let message = fm002["message"].as_str().unwrap();
        assert!(message.contains(label), "{fixture}: {message}");
        assert!(
            !message.contains(number),
            "{fixture}: {number} in {message}"
        );
        // The token: same length, same literal prefix, then a digit that is not a zero.
        let token = message
            .split(|c: char| !(c.is_ascii_digit() || c == '+'))
            .find(|w| w.len() == number.len() && w.starts_with(kept))
            .unwrap_or_else(|| {
                panic!(
                    "{fixture}: no {kept}… token of {} in {message}",
                    number.len()
                )
            });
        assert_ne!(token.as_bytes()[kept.len()], b'0', "{number} → {token}");
        assert_ne!(token, number);
    }
}

#[test]
fn same_key_same_tokens_other_key_other_tokens() {
    let capture = testdata("followme/busy-site.pcap");
    let capture = capture.to_str().unwrap();
    let run = |key: &str| analyze_json(capture, &[], &["--redact", "--redact-key", key]);
    let (a, b, c) = (run(KEY), run(KEY), run("another key"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // The environment variable is the same key.
    let env = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["analyze", "-f", "json", "--redact", capture])
        .env("SIPDIAG_REDACT_KEY", KEY)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    assert_eq!(stdout(&env), a);
    // Without a key, a random one: two runs differ.
    let r1 = analyze_json(capture, &[], &["--redact"]);
    let r2 = analyze_json(capture, &[], &["--redact"]);
    assert_ne!(r1, r2);
    let v: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["captures"][0]["path"], "capture-1.pcap");
}

#[test]
fn command_line_values_match_the_redacted_capture() {
    // --number and --call-id select the same call with and without redaction; --xcc makes
    // the same host XCC.
    let capture = testdata("followme/fm002-national0.pcap");
    let capture = capture.to_str().unwrap();
    let site = [
        "--country-code",
        "49",
        "--internal-length",
        "3",
        "--xcc",
        "127.0.0.20",
    ];
    let plain = findings(&analyze_json(capture, &site, &[]));
    let redacted = findings(&analyze_json(capture, &site, &["--redact"]));
    assert!(plain.iter().any(|f| f.0 == "FM002"), "{plain:?}");
    assert_eq!(plain, redacted);
    let calls = |extra: &[&str]| {
        let mut a = vec!["calls", "-f", "json"];
        a.extend_from_slice(extra);
        a.push(capture);
        let o = sipdiag_wide(&a);
        match o.status.code() {
            Some(0) => {
                let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
                v["calls"].as_array().map_or(0, Vec::len)
            }
            // "no call in the capture matches the selection"
            _ => 0,
        }
    };
    assert_eq!(calls(&["--number", "030123456"]), 1);
    assert_eq!(
        calls(&["--number", "030123456", "--redact", "--redact-key", KEY]),
        1
    );
    assert_eq!(
        calls(&["--ip", "127.0.0.20", "--redact", "--redact-key", KEY]),
        1
    );
    assert_eq!(
        calls(&["--ip", "127.0.0.99", "--redact", "--redact-key", KEY]),
        0
    );
}

#[test]
fn extract_maps_xcc_to_its_token_under_redaction() {
    // The second leg is linked to the first through XCC's address: given as the real
    // address, it must name the redacted host, or the leg is left out.
    let capture = testdata("followme/fm006-second-leg-484.pcap");
    let capture = capture.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("call.pcapng");
    let out = out.to_str().unwrap();
    let first_leg = "2ee0e2e447448e5cb41cd11f@127.0.0.10";
    for extra in [&[][..], &["--xcc", "127.0.0.20"], &["--pbx", "127.0.0.10"]] {
        for redact in [&[][..], &["--redact", "--redact-key", KEY]] {
            let mut a = vec!["extract", "--call-id", first_leg, "-o", out];
            a.extend_from_slice(extra);
            a.extend_from_slice(redact);
            a.push(capture);
            let o = sipdiag_wide(&a);
            assert_eq!(o.status.code(), Some(0), "{a:?}: {o:?}");
            assert!(
                stdout(&o).contains("9 frames (9 SIP, 0 media) of 2 call(s)"),
                "{a:?}: {}",
                stdout(&o)
            );
        }
    }
}

/// The IP Office fixtures, each with example.toml.
fn ipo_captures() -> Vec<String> {
    let dir = testdata("ipoffice");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    v.sort();
    assert!(v.len() >= 7, "{v:?}");
    v
}

/// The personal values of example.toml and of the fixtures' calls (their called and
/// calling numbers, read from the unredacted replay).
fn ipo_sensitive(rows: &[Value]) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&str, String)> = [
        ("name", "Anna"),
        ("name", "Ben"),
        ("name", "Carla"),
        ("name", "Sales"),
        ("name", "Support"),
        ("name", "Operators"),
        ("user", "anna"),
        ("user", "carla"),
        ("number", "201"),
        ("number", "202"),
        ("number", "203"),
        ("number", "300"),
        ("number", "301"),
        ("number", "399"),
        ("number", "4930555000"),
        ("number", "4930555300"),
        ("number", "4930555201"),
        ("number", "4930555203"),
        ("number", "4940123"),
        ("host", "sip.provider.example"),
        ("host", "provider"),
        ("host", "xcc.example"),
        // 127.0.0.1 is left out: a one-digit octet has nine tokens, so a token may
        // equal a real address.
        ("ip", "127.0.0.10"),
        ("ip", "127.0.0.20"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for r in rows {
        for f in ["called", "caller"] {
            let user = r[f].as_str().unwrap().split('@').next().unwrap();
            let digits: String = user.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 4 {
                v.push(("number", digits));
            }
        }
    }
    v
}

fn ipo_rows(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).expect("ipo-route JSON");
    v["routes"].as_array().expect("routes").clone()
}

/// `ipo-route --redact`: the configuration is rewritten with the capture's key, so every
/// INVITE gets the same decision (line, URI, appearance, route, outcome, response, agreement
/// with the capture), destinations map one to one onto their tokens, and no personal value
/// of the configuration or the capture is left in any format.
#[test]
fn ipo_route_redacts_the_configuration_with_the_capture() {
    let config = testdata("ipoffice/example.toml");
    let config = config.to_str().unwrap();
    let captures = ipo_captures();
    let run = |redact: &[&str], format: &str| {
        let mut a = vec!["ipo-route", "--config", config, "-f", format];
        a.extend_from_slice(redact);
        a.extend(captures.iter().map(String::as_str));
        let o = sipdiag_wide(&a);
        assert!(o.status.code().is_some_and(|c| c < 2), "{a:?} {o:?}");
        stdout(&o)
    };
    let redact = ["--redact", "--redact-key", KEY];
    let plain = ipo_rows(&run(&[], "json"));
    let red_json = run(&redact, "json");
    let red = ipo_rows(&red_json);
    assert_eq!(plain.len(), red.len());
    assert!(plain.len() >= 8, "{plain:?}");
    let decision = |r: &Value| {
        [
            "invite_frame",
            "outcome",
            "response",
            "line",
            "uri",
            "appearance",
            "route",
            "observed",
            "agrees",
            "local_time",
            "failure",
        ]
        .map(|k| r[k].clone())
    };
    let mut tokens = std::collections::HashMap::new();
    for (p, r) in plain.iter().zip(&red) {
        assert_eq!(decision(p), decision(r), "{p}\n{r}");
        for k in ["destination", "fallback"] {
            assert_eq!(p[k].is_null(), r[k].is_null(), "{k}: {p}\n{r}");
            if let (Some(a), Some(b)) = (p[k].as_str(), r[k].as_str()) {
                assert_eq!(a.len(), b.len());
                assert_eq!(tokens.entry(a.to_string()).or_insert(b), &b, "{a}");
            }
        }
    }
    // `--busy` names a party as the file does: Anna busy sends her DID to Sales both ways.
    let busy_plain = ipo_rows(&run(&["--busy", "Anna"], "json"));
    let busy_red = ipo_rows(&run(
        &["--busy", "Anna", "--redact", "--redact-key", KEY],
        "json",
    ));
    let dests = |rows: &[Value]| {
        rows.iter()
            .map(|r| r["destination"].clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(
        dests(&busy_plain),
        dests(&plain),
        "Anna busy changes a destination"
    );
    assert_eq!(busy_plain.len(), busy_red.len());
    for (p, r) in busy_plain.iter().zip(&busy_red) {
        assert_eq!(decision(p), decision(r), "--busy Anna: {p}\n{r}");
        assert_eq!(p["destination"].is_null(), r["destination"].is_null());
    }
    let mut seen: Vec<_> = tokens.values().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), tokens.len(), "one token per party: {tokens:?}");
    assert!(
        plain.iter().any(|r| r["route"].is_number()) && plain.iter().any(|r| r["line"] == 18),
        "the fixtures reach routes on both lines"
    );
    let values = ipo_sensitive(&plain);
    for text in [red_json, run(&redact, "table"), run(&redact, "markdown")] {
        for (kind, v) in &values {
            assert!(!occurs(&text, kind, v), "{kind} {v} in\n{text}");
        }
    }
}

/// `analyze --ipo-config --redact`: the IPO (and every other) finding is the one of the
/// unredacted run, at the same frames, and the report names none of the configuration's
/// parties, numbers or addresses.
#[test]
fn analyze_with_an_ip_office_configuration_redacts_it_too() {
    let config = testdata("ipoffice/example.toml");
    let extra = ["--ipo-config", config.to_str().unwrap()];
    let redact = ["--redact", "--redact-key", KEY];
    let mut ipo = 0;
    let plain_rows = {
        let mut a = vec!["ipo-route", "--config", extra[1], "-f", "json"];
        let captures = ipo_captures();
        a.extend(captures.iter().map(String::as_str));
        ipo_rows(&stdout(&sipdiag_wide(&a)))
    };
    let values = ipo_sensitive(&plain_rows);
    for capture in ipo_captures() {
        let plain = findings(&analyze_json(&capture, &extra, &[]));
        let red_json = analyze_json(&capture, &extra, &redact);
        assert_eq!(plain, findings(&red_json), "{capture}");
        ipo += plain.iter().filter(|f| f.0.starts_with("IPO")).count();
        for (kind, v) in &values {
            assert!(!occurs(&red_json, kind, v), "{capture}: {kind} {v}");
        }
    }
    assert!(ipo > 0, "the fixtures give IPO findings");
}

/// `analyze --annotate` and `extract` rewrite the packets under `--redact`: the files they
/// write hold no personal value (every output read from them shows none), and the
/// annotated copy gives the redacted analysis's findings at the same frames.
#[test]
fn annotated_and_extracted_captures_are_redacted_too() {
    let redact = ["--redact", "--redact-key", KEY];
    let dir = tempfile::tempdir().unwrap();
    for (name, path, extra) in inputs().into_iter().take(6) {
        let capture = path.to_str().unwrap();
        let values = sensitive(name);
        let annotated = dir.path().join(format!("{name}-annotated.pcapng"));
        let annotated = annotated.to_str().unwrap();
        let mut a = vec!["analyze", "-f", "json", "--annotate", annotated];
        a.extend_from_slice(&extra);
        a.extend_from_slice(&redact);
        a.push(capture);
        let o = sipdiag_wide(&a);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{name}: {o:?}");
        let redacted_findings = findings(&stdout(&o));
        // Read without --redact: what the file holds is already redacted.
        let from_file = all_outputs(annotated, &extra, &[]);
        let leaks: Vec<_> = values
            .iter()
            .filter(|(k, v)| occurs(&from_file, k, v))
            .collect();
        assert!(
            leaks.is_empty(),
            "{name}: the annotated copy leaks {leaks:?}"
        );
        assert_eq!(
            findings(&analyze_json(annotated, &extra, &[])),
            redacted_findings,
            "{name}: the redacted copy is diagnosed differently"
        );
        // One call cut out, chosen by its real Call-ID (redacted like the capture).
        let plain: Value = serde_json::from_str(&analyze_json(capture, &extra, &[])).unwrap();
        let Some(call_id) = plain["calls"][0]["call_id"].as_str() else {
            continue;
        };
        let extracted = dir.path().join(format!("{name}-call.pcapng"));
        let extracted = extracted.to_str().unwrap();
        let mut e = vec!["extract", "--call-id", call_id, "-o", extracted];
        e.extend_from_slice(&redact);
        e.push(capture);
        let o = sipdiag_wide(&e);
        assert_eq!(o.status.code(), Some(0), "{name}: {o:?}");
        let out = stdout(&o);
        assert!(
            !out.contains(call_id),
            "{name}: extract printed the Call-ID"
        );
        let from_file = all_outputs(extracted, &extra, &[]);
        assert!(from_file.contains("INVITE"), "{name}: nothing extracted");
        let leaks: Vec<_> = values
            .iter()
            .filter(|(k, v)| occurs(&from_file, k, v))
            .collect();
        assert!(leaks.is_empty(), "{name}: the extract leaks {leaks:?}");
    }
}

/// Capture files read merged under `--redact` are cited by the names the report gives
/// them (`capture-N`), never by their own: in the JSON findings' frames, in the text
/// report's legend of merged frame numbers and in the ladders of `--flow` and of the
/// HTML page, read as a stream or holding every call. A file's name often names the
/// customer.
#[test]
fn several_capture_files_are_cited_by_their_redacted_names() {
    let dir = tempfile::tempdir().unwrap();
    let named = |name: &str, from: &str| {
        let path = dir.path().join(name);
        std::fs::copy(testdata(from), &path).unwrap();
        path.to_str().unwrap().to_string()
    };
    let pbx = named("acme-gmbh-pbx.pcap", "followme/merge-pbx-side.pcap");
    let xcc = named("acme-gmbh-xcc.pcapng", "followme/merge-xcc-side.pcapng");
    let reports: [&[&str]; 4] = [
        &["analyze", "-f", "json"],
        &["analyze", "-f", "markdown", "--flow"],
        &["analyze", "-f", "html"],
        &["flow", "--call-id"],
    ];
    // `flow` of one call, chosen by its own Call-ID (redacted like the capture).
    let plain: Value = serde_json::from_str(&analyze_json(&pbx, &[], &[])).unwrap();
    let call_id = plain["calls"][0]["call_id"].as_str().unwrap();
    for args in reports {
        let mut a = args.to_vec();
        if args[0] == "flow" {
            a.push(call_id);
        }
        a.extend(["--redact", "--redact-key", KEY, &pbx, &xcc]);
        let out = stdout(&sipdiag_wide(&a));
        assert!(
            args[0] == "flow" || out.contains("capture-2.pcapng"),
            "{args:?}: {out}"
        );
        assert!(out.contains("INVITE"), "{args:?}: {out}");
        assert!(!out.contains("acme"), "{args:?} names a file: {out}");
    }
}

/// The ladder of `--flow` marks the frames the findings cite under `--redact` as without
/// it, read as a stream or holding every call (the findings name their file redacted).
#[test]
fn a_ladder_marks_the_frames_cited_under_redaction_too() {
    let capture = testdata("followme/fm002-intl00.pcap");
    let capture = capture.to_str().unwrap();
    for held in [&[][..], &["--in-memory"]] {
        for redact in [&[][..], &["--redact", "--redact-key", KEY]] {
            let mut a = vec!["analyze", "-f", "markdown", "--flow"];
            a.extend_from_slice(held);
            a.extend_from_slice(redact);
            a.push(capture);
            let out = stdout(&sipdiag_wide(&a));
            assert!(
                out.contains("* a finding cites this frame"),
                "{held:?} {redact:?}: {out}"
            );
            assert_eq!(
                out.lines().filter(|l| l.starts_with("*     ")).count(),
                4,
                "{held:?} {redact:?}: the four frames FM002 cites: {out}"
            );
        }
    }
}
