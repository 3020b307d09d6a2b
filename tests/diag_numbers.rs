//! Forwarded numbers on real captures (sipp playing PBX and XCC, captured with tcpdump; see
//! testdata/followme/README.md): Diversion chains, every number format in one run, site
//! inference from the numbers that can be users, and FM012 (AnyDevice number length).
//! Frame numbers are checked against tshark's listing (`*.sip.tsv`).

mod common;

use common::*;
use serde_json::Value;

fn run_json(args: &[&str]) -> (Value, i32) {
    let out = sipdiag(args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: bad JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

fn fixture(name: &str) -> String {
    testdata(&format!("followme/{name}.pcap"))
        .to_str()
        .unwrap()
        .to_string()
}

fn analyze(name: &str, extra: &[&str]) -> Value {
    let path = fixture(name);
    let mut args = vec!["analyze", "--format", "json", path.as_str()];
    args.extend_from_slice(extra);
    run_json(&args).0
}

fn findings<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// tshark's frames of each call (INVITE, 100, 503, ACK), by Call-ID, in capture order.
fn oracle_calls(name: &str) -> Vec<(String, Vec<u64>, u64, u64)> {
    let rows = tsv(&testdata(&format!("followme/{name}.sip.tsv")), "frame\t");
    let mut calls: Vec<(String, Vec<u64>, u64, u64)> = Vec::new();
    for r in rows {
        let frame: u64 = r[0].parse().unwrap();
        let (msg, id) = (r[5].as_str(), r[7].clone());
        let i = match calls.iter().position(|c| c.0 == id) {
            Some(i) => i,
            None => {
                calls.push((id, Vec::new(), 0, 0));
                calls.len() - 1
            }
        };
        calls[i].1.push(frame);
        match msg {
            "INVITE" => calls[i].2 = frame,
            "503" => calls[i].3 = frame,
            _ => {}
        }
    }
    calls
}

const SITE: &[&str] = &["--country-code", "49", "--internal-length", "3"];

#[test]
fn diversion_chain_is_judged_by_the_original_called_party() {
    for name in ["fm002-chain-one-line", "fm002-chain-two-lines"] {
        let calls = oracle_calls(name);
        assert_eq!(calls.len(), 1, "{name}");
        let (call_id, all, invite, answer) = &calls[0];
        for v in [analyze(name, SITE), analyze(name, &[])] {
            assert_eq!(ids(&v), ["FM002"], "{name}: {}", v["findings"]);
            let f = findings(&v, "FM002")[0];
            assert_eq!(f["call_id"], call_id.as_str());
            assert_eq!(frames(f), *all, "{name}");
            assert_eq!(
                f["title"],
                "Forwarded number 0049301234789 is international with 00"
            );
            let msg = f["message"].as_str().unwrap();
            assert!(
                msg.contains(&format!(
                    "forwarded INVITE (frame {invite}) with 503 (frame {answer})"
                )),
                "{msg}"
            );
            assert!(
                msg.contains("The Diversion header has 2 entries; XCC looks up the original called party, the last one: 0049301234789."),
                "{msg}"
            );
            assert!(msg.contains("Make the PBX send +49301234789"), "{msg}");
            assert_eq!(f["evidence"]["header"], "Diversion");
            assert_eq!(f["evidence"]["entry"], 1);
            assert_eq!(f["evidence"]["entries"], 2);
            // The suggestion is proven on the entry XCC uses, not on the newest one.
            let s = suggestion(&v, f);
            assert_eq!(s["observed"], serde_json::json!(["0049301234789"]));
            assert_eq!(s["normalized"], serde_json::json!(["+49301234789"]));
            assert_eq!(s["observed_count"], 1);
            assert_eq!(s["understood_count"], 1);
            assert_eq!(s["rewrite"]["match"], r"^00(\d+)$");
            // The report lists the whole chain, the used entry marked.
            let call = &v["calls"][0];
            assert_eq!(
                call["diversion"],
                serde_json::json!(["+4930123456", "0049301234789"])
            );
            let chain = call["forwarding"].as_array().unwrap();
            assert_eq!(chain.len(), 2);
            assert_eq!(chain[0]["number"], "+4930123456");
            assert_eq!(chain[0]["reason"], "unconditional");
            assert_eq!(chain[0]["used"], false);
            assert_eq!(chain[1]["number"], "0049301234789");
            assert_eq!(chain[1]["reason"], "no-answer");
            assert_eq!(chain[1]["used"], true);
        }
        // `calls`: the chain (an array, as in `analyze`) with the used entry marked, in
        // JSON and in the table.
        let path = fixture(name);
        let (v, _) = run_json(&["calls", "--format", "json", &path]);
        assert_eq!(
            v["calls"][0]["diversion"],
            serde_json::json!(["+4930123456", "0049301234789"])
        );
        assert_eq!(v["calls"][0]["forwarding"][1]["used"], true);
        let table = stdout(&sipdiag_wide(&["calls", &path]));
        assert!(
            table.contains("+4930123456, 0049301234789 (used)"),
            "{table}"
        );
        let table = stdout(&sipdiag_wide(&["analyze", &path]));
        assert!(table.contains("Follow-Me legs"), "{table}");
        assert!(
            table.contains("+4930123456, 0049301234789 (used)"),
            "{table}"
        );
        let md = stdout(&sipdiag(&["analyze", "--format", "markdown", &path]));
        assert!(md.contains("| +4930123456, 0049301234789 (used) |"), "{md}");
    }
}

/// A chain whose original called party is well-formed: FM004 (not FM002) on that entry,
/// with the chained-forwarding hint naming the newest entry, and no FM012.
#[test]
fn chain_with_a_well_formed_original_party_is_fm004() {
    let calls = oracle_calls("fm004-chain-user-unknown");
    let (call_id, all, invite, answer) = &calls[0];
    for extra in [SITE, &[][..]] {
        let v = analyze("fm004-chain-user-unknown", extra);
        assert_eq!(ids(&v), ["FM004"], "{}", v["findings"]);
        let f = findings(&v, "FM004")[0];
        assert_eq!(f["call_id"], call_id.as_str());
        assert_eq!(frames(f), *all);
        assert_eq!(f["title"], "No XPhone user has +4930999999");
        assert_eq!(f["evidence"]["chained_forward"], true);
        assert_eq!(f["evidence"]["entry"], 1);
        let msg = f["message"].as_str().unwrap();
        for part in [
            &format!(
                "forwarded INVITE (frame {invite}) with 503 (frame {answer}) although the Diversion number +4930999999 is E.164"
            ),
            "The Diversion header has 2 entries; XCC looks up the original called party, the last one: +4930999999.",
            "The most recent forwarding party is +4930123456",
            "prefix forwarding (XccGatewayInPrefix + the user's extension)",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
    }
}

/// History-Info is chronological: the entry with index 1 is looked up, not the
/// AnyDevice target (index 1.1), and the chain is shown with it marked.
#[test]
fn history_info_chain_uses_index_one() {
    let v = analyze("numbers-mixed", SITE);
    let calls = oracle_calls("numbers-mixed");
    // Call 4: History-Info 030123458 (index 1), 799 (index 1.1).
    let f = findings(&v, "FM002")
        .into_iter()
        .find(|f| f["call_id"] == calls[3].0.as_str())
        .expect("FM002 on the fourth call");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("The History-Info header has 2 entries; XCC looks up the original called party, the first one (index 1): 030123458."),
        "{msg}"
    );
    let row = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["call_id"] == calls[3].0.as_str())
        .unwrap();
    let chain = row["forwarding"].as_array().unwrap();
    assert_eq!(chain[0]["index"], "1");
    assert_eq!(chain[0]["used"], true);
    assert_eq!(chain[1]["number"], "799");
    assert_eq!(chain[1]["reason"], "302");
    assert_eq!(chain[1]["used"], false);
}

/// Eight calls in one capture: E.164, internal, 00, 0, 99-prefix, +internal and two
/// numbers without + or 00 (Diversion and History-Info). Numbers XCC understands get
/// FM004, the others FM002; the one suggestion turns every number XCC looks up into
/// E.164 or internal, with the site given and with the site inferred.
#[test]
fn every_observed_format_is_understood_after_the_candidate_pattern() {
    let calls = oracle_calls("numbers-mixed");
    assert_eq!(calls.len(), 8);
    let expect = [
        ("FM004", "+4930123456", None),
        ("FM004", "201", None),
        ("FM002", "004930123457", Some("+4930123457")),
        ("FM002", "030123458", Some("+4930123458")),
        ("FM002", "99202", Some("202")),
        ("FM002", "+203", Some("203")),
        ("FM002", "49301234175", Some("+49301234175")),
        ("FM002", "49301234176", Some("+49301234176")),
    ];
    for extra in [SITE, &[][..]] {
        let v = analyze("numbers-mixed", extra);
        assert_eq!(v["findings"].as_array().unwrap().len(), 8, "{extra:?}");
        for ((id, number, after), (call_id, all, invite, answer)) in expect.iter().zip(&calls) {
            let f = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["call_id"] == call_id.as_str())
                .unwrap_or_else(|| panic!("no finding for {number}"));
            assert_eq!(f["id"], *id, "{number}: {}", f["title"]);
            assert_eq!(frames(f), *all, "{number}");
            assert!(frames(f).contains(invite) && frames(f).contains(answer));
            assert!(
                f["title"].as_str().unwrap().contains(number),
                "{}",
                f["title"]
            );
            if let Some(after) = after {
                assert!(
                    f["message"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("Make the PBX send {after} instead")),
                    "{}",
                    f["message"]
                );
            }
        }
        let f = findings(&v, "FM002")[0];
        let s = suggestion(&v, f);
        assert_eq!(s["observed_count"], 8, "{s}");
        assert_eq!(s["understood_count"], s["observed_count"], "{s}");
        let proof = s["proof"].as_array().unwrap();
        assert_eq!(proof.len(), 8);
        assert!(proof.iter().all(|p| p["understood_by_xcc"] == true), "{s}");
        let rewritten = |n: &str| {
            proof
                .iter()
                .find(|p| p["observed"] == n)
                .map(|p| p["rewritten"].as_str().unwrap().to_string())
        };
        for (_, number, after) in expect {
            assert_eq!(
                rewritten(number).as_deref(),
                Some(after.unwrap_or(number)),
                "{number}"
            );
        }
        let rewrites: Vec<String> = s["rewrites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}=>{}",
                    r["match"].as_str().unwrap(),
                    r["replace"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            rewrites.contains(&r"^49(\d{6,13})$=>+49$1".to_string()),
            "{rewrites:?}"
        );
        assert_eq!(rewrites.len(), 5, "{rewrites:?}");
        // The no-plus number's own finding states its own rewrite.
        let np = findings(&v, "FM002")
            .into_iter()
            .find(|f| f["title"].as_str().unwrap().contains("49301234175"))
            .unwrap();
        assert!(
            np["title"]
                .as_str()
                .unwrap()
                .ends_with("is international without + or 00")
        );
        assert!(
            np["message"]
                .as_str()
                .unwrap()
                .contains(r"rewrite ^49(\d{6,13})$ → +49$1")
        );
        // `pattern test` with the same rewrites on the same capture agrees.
        let path = fixture("numbers-mixed");
        let mut args = vec!["pattern", "test", "--format", "json"];
        for r in &rewrites {
            args.extend(["--rewrite", r.as_str()]);
        }
        args.push(&path);
        args.extend_from_slice(extra);
        let (t, code) = run_json(&args);
        assert_eq!(code, 0);
        let results = t["results"].as_array().unwrap();
        // Every Diversion/History-Info number (the AnyDevice target 799 included) ends up
        // in a format XCC understands.
        assert!(results.len() >= 8, "{t}");
        assert!(
            results.iter().all(|p| p["understood_by_xcc"] == true),
            "{t}"
        );
    }
}

/// The table and markdown reports state the one shared suggestion once, with every
/// rewrite, and refer to it from the other findings.
#[test]
fn shared_suggestion_is_stated_once() {
    let path = fixture("numbers-mixed");
    let table = stdout(&sipdiag(&["analyze", &path]));
    assert_eq!(
        table.matches("Candidate XccDiversionPattern:").count(),
        1,
        "{table}"
    );
    // Every FM002 entry refers to it (one entry per cause: findings of one number
    // format are grouped).
    let v = analyze("numbers-mixed", &[]);
    let fm002_groups = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["id"] == "FM002")
        .count();
    assert!(fm002_groups > 1);
    assert_eq!(
        table.matches("Fix: suggestion 1 below").count(),
        fm002_groups,
        "{table}"
    );
    assert!(
        table.contains(concat!(
            "   Rewrites (the first that matches applies):\n",
            "     ^00(\\d+)$ → +$1\n",
            "     ^0([1-9]\\d+)$ → +49$1\n",
            "     ^99(\\d{3})$ → $1\n",
            "     ^\\+(\\d{3})$ → $1\n",
            "     ^49(\\d{6,13})$ → +49$1\n"
        )),
        "{table}"
    );
    assert!(
        table.contains("     49301234176 → +49301234176 (E.164)"),
        "{table}"
    );
    let md = stdout(&sipdiag(&["analyze", "--format", "markdown", &path]));
    assert_eq!(
        md.matches("Candidate XccDiversionPattern:").count(),
        1,
        "{md}"
    );
    assert_eq!(
        md.matches("Fix: suggestion 1 below.").count(),
        fm002_groups,
        "{md}"
    );
}

/// A wrong site fact leaves numbers sipdiag cannot place: it says why and which flag
/// settles it, and the proof no longer claims every number.
#[test]
fn a_number_that_cannot_be_placed_names_the_flag() {
    let v = analyze(
        "numbers-mixed",
        &["--country-code", "33", "--internal-length", "3"],
    );
    let f = findings(&v, "FM002")
        .into_iter()
        .find(|f| f["title"].as_str().unwrap().contains("49301234175"))
        .expect("FM002 for 49301234175");
    assert_eq!(f["evidence"]["number"]["format"]["kind"], "unknown");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("sipdiag could not derive a rewrite"), "{msg}");
    assert!(msg.contains("country code 33"), "{msg}");
    assert!(msg.contains("--country-code"), "{msg}");
    let s = suggestion(&v, f);
    assert!(
        s["understood_count"].as_u64().unwrap() < s["observed_count"].as_u64().unwrap(),
        "{s}"
    );
    // The proof says it per number; understood numbers carry no note.
    let proof = s["proof"].as_array().unwrap();
    let entry = |n: &str| proof.iter().find(|p| p["observed"] == n).unwrap();
    let note = entry("49301234175")["unresolved"].as_str().unwrap();
    assert!(note.contains("--country-code"), "{note}");
    assert!(entry("004930123457").get("unresolved").is_none());
    // `pattern test` on values: without a rewrite for it, the no-plus number is explained.
    let (t, code) = run_json(&[
        "pattern",
        "test",
        "--format",
        "json",
        "--rewrite",
        r"^00(\d+)$=>+$1",
        "--value",
        "004930123",
        "--value",
        "49301234175",
        "--country-code",
        "49",
        "--internal-length",
        "3",
    ]);
    assert_eq!(code, 1, "{t}");
    assert_eq!(t["results"][0]["understood_by_xcc"], true);
    assert_eq!(
        t["results"][1]["unresolved"],
        "no rewrite turns 49301234175 into +49301234175"
    );
}

/// Site inference counts the numbers that can be users, not the AnyDevice number the
/// first leg is sent to, and names them.
#[test]
fn site_inference_skips_the_anydevice_number() {
    // First leg to 8999, Diversion 201: the internal length is 3, not 4.
    let v = analyze("fm012-anydevice-long", &[]);
    assert_eq!(v["site"]["internal_length"], 3);
    let notes: Vec<&str> = v["site"]["inferred"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "internal number length 3 inferred from 1 number(s) that can be users (Diversion/History-Info entries, From/To of second legs): 201"
        ]
    );
    // Healthy calls to 799: neither the Diversion (E.164) nor the second leg has a short
    // number, so no internal length is inferred from the AnyDevice number 799; the
    // country code comes from the Diversion entry and the second leg.
    let v = analyze("healthy-diversion-udp", &[]);
    assert_eq!(v["site"]["internal_length"], Value::Null, "{}", v["site"]);
    assert_eq!(v["site"]["country_code"], "49");
    let notes = v["site"]["inferred"].to_string();
    assert!(
        notes.contains("+4930123456") && notes.contains("+491701234567"),
        "{notes}"
    );
    assert!(!notes.contains("799"), "{notes}");
    // History-Info: the target entry (799, index 1.1) is the AnyDevice number, skipped.
    let v = analyze("healthy-history-info-tcp", &[]);
    assert_eq!(v["site"]["internal_length"], Value::Null, "{}", v["site"]);
    assert!(!v["site"]["inferred"].to_string().contains("799"));
    // The table says it too.
    let path = fixture("fm012-anydevice-long");
    let table = stdout(&sipdiag(&["analyze", &path]));
    assert!(
        table
            .contains("Site: internal number length 3 inferred from 1 number(s) that can be users"),
        "{table}"
    );
}

/// FM012: the first leg to the four-digit AnyDevice number 8999 with internal length 3,
/// answered 503 without a second leg.
#[test]
fn fm012_anydevice_number_longer_than_internal_length() {
    let calls = oracle_calls("fm012-anydevice-long");
    let (call_id, all, invite, answer) = &calls[0];
    for (extra, source) in [
        (&[][..], "inferred from the numbers that can be users"),
        (SITE, "from the site profile"),
    ] {
        let v = analyze("fm012-anydevice-long", extra);
        assert_eq!(ids(&v), ["FM004", "FM012"], "{}", v["findings"]);
        let f = findings(&v, "FM012")[0];
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["slug"], "anydevice-number-length");
        assert_eq!(f["call_id"], call_id.as_str());
        assert_eq!(frames(f), *all);
        assert_eq!(
            f["title"],
            "AnyDevice number 8999 is longer than the internal number length 3"
        );
        let msg = f["message"].as_str().unwrap();
        for part in [
            &format!("central AnyDevice number 8999 (frame {invite}), which has 4 digits"),
            "the internal number length is 3",
            source,
            &format!("answered 503 Service Unavailable (frame {answer}) and placed no second leg"),
            "shorten it to at most 3 digits",
            "raise the internal number length in the SIP gateway's dialling parameters to 4",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
        assert_eq!(f["evidence"]["anydevice_number"], "8999");
        assert_eq!(f["evidence"]["anydevice_length"], 4);
        assert_eq!(f["evidence"]["internal_length"], 3);
        // FM004 points at the length first.
        let f4 = findings(&v, "FM004")[0];
        assert!(
            f4["message"].as_str().unwrap().contains(
                "the AnyDevice number 8999 is longer than the internal number length 3 (FM012)"
            ),
            "{}",
            f4["message"]
        );
    }
    // With internal length 4 the AnyDevice number fits: no FM012.
    let v = analyze("fm012-anydevice-long", &["--internal-length", "4"]);
    assert!(findings(&v, "FM012").is_empty(), "{}", v["findings"]);
    // `explain` carries the doc sections.
    let text = stdout(&sipdiag(&["explain", "FM012"]));
    assert!(text.contains("anydevice-number-length"), "{text}");
    assert!(text.contains("warning, not error"), "{text}");
}

/// FM012 stays silent on every other Follow-Me fixture (AnyDevice number 799, internal
/// length 3), whether the site is given or inferred.
#[test]
fn fm012_silent_elsewhere() {
    let dir = testdata("followme");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".pcap") || name.starts_with("fm012") {
            continue;
        }
        seen += 1;
        for extra in [SITE, &[][..]] {
            let mut args = vec!["analyze", "--format", "json", p.to_str().unwrap()];
            args.extend_from_slice(extra);
            let (v, _) = run_json(&args);
            assert!(
                findings(&v, "FM012").is_empty(),
                "{name} {extra:?}: {}",
                v["findings"]
            );
        }
    }
    assert!(seen >= 20, "{seen} fixtures");
}
