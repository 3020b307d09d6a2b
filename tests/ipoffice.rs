//! `sipdiag ipo-route`: the IP Office routing replay through the real binary, on the
//! example configuration (dry runs) and on captures made with sipp.

mod common;

use common::{sipdiag, stdout, testdata};
use serde_json::Value;

fn example() -> String {
    testdata("ipoffice/example.toml").display().to_string()
}

/// A dry run on the example configuration, as JSON; `extra` adds flags or overrides
/// the defaults (source 127.0.0.1, a provider caller, Thursday 09:30 local).
fn dry(extra: &[&str]) -> Value {
    let cfg = example();
    let mut flags: Vec<(&str, Option<&str>)> = vec![
        ("--source", Some("127.0.0.1:5060")),
        ("--from", Some("+4930999111@sip.provider.example")),
        ("--at", Some("2026-12-03T09:30:00+01:00")),
    ];
    let mut it = extra.iter();
    while let Some(&f) = it.next() {
        let v = it.next().copied();
        match flags.iter_mut().find(|(k, _)| *k == f && f != "--busy") {
            Some(slot) => slot.1 = v,
            None => flags.push((f, v)),
        }
    }
    let mut args = vec!["ipo-route", "--config", &cfg, "--dry-run", "-f", "json"];
    for (k, v) in &flags {
        args.push(k);
        args.extend(v.iter());
    }
    let o = sipdiag(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&stdout(&o)).expect("JSON")
}

fn only(v: &Value) -> &Value {
    assert_eq!(v["schema_version"], 1);
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1);
    &routes[0]
}

fn steps(r: &Value) -> Vec<(String, String)> {
    r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn dry_run_json_has_the_contract_shape() {
    let v = dry(&["--request-uri", "4930555201@127.0.0.10"]);
    let r = only(&v);
    for key in [
        "invite_frame",
        "call_id",
        "outcome",
        "response",
        "line",
        "uri",
        "appearance",
        "route",
        "destination",
        "fallback",
        "steps",
        "observed",
        "agrees",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["invite_frame"], Value::Null);
    assert_eq!(r["call_id"], Value::Null);
    assert_eq!(r["observed"], Value::Null);
    assert_eq!(r["agrees"], Value::Null);
    assert_eq!(r["outcome"], "routed");
    assert_eq!(r["response"], Value::Null);
    // Anna's DID: route 4 (10 exact digits beat the 49305552XX range, route 3).
    assert_eq!((r["line"].as_u64(), r["uri"].as_u64()), (Some(17), Some(2)));
    assert_eq!(r["route"], 4);
    assert_eq!(r["destination"], "201");
    assert_eq!(r["fallback"], "300");
    for s in r["steps"].as_array().unwrap() {
        for key in ["step", "result", "why", "compared", "seed"] {
            assert!(s[key].as_str().is_some_and(|t| !t.is_empty()), "{s}");
        }
    }
    let sel = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "route.select")
        .unwrap();
    assert_eq!(
        sel["why"],
        "route 4 beats route 3: more exact digits (10 vs 8)"
    );
}

#[test]
fn dry_run_cli_match_and_busy_fallback() {
    // The key customer's CLI (+4940123…, matched from the left) reaches Ben (route 5).
    let v = dry(&[
        "--request-uri",
        "sip:4930555201@127.0.0.10",
        "--from",
        "sip:+4940123777@sip.provider.example",
    ]);
    let r = only(&v);
    assert_eq!(
        (r["route"].as_u64(), r["destination"].as_str()),
        (Some(5), Some("202"))
    );
    // Ben busy → his fallback, Anna.
    let v = dry(&[
        "--request-uri",
        "4930555201",
        "--from",
        "+4940123777",
        "--busy",
        "Ben",
    ]);
    let r = only(&v);
    assert_eq!(r["destination"], "201");
    assert_eq!(
        steps(r).last().unwrap(),
        &("destination.busy".into(), "routed".into())
    );
    // Carla (busy in the configuration) on her exact-length DID → Support.
    let r = dry(&["--request-uri", "4930555203"]);
    let r = only(&r);
    assert_eq!(
        (r["route"].as_u64(), r["destination"].as_str()),
        (Some(6), Some("301"))
    );
}

#[test]
fn dry_run_time_profiles_bottom_up() {
    let at = |t: &str| {
        let v = dry(&["--request-uri", "4930555300", "--at", t]);
        only(&v)["destination"].as_str().unwrap().to_string()
    };
    // Sales DID: lunch (bottom pair) → Ben; office hours → Sales; night → default Sales.
    assert_eq!(at("2026-12-03T12:15:00+01:00"), "202");
    assert_eq!(at("2026-12-03T10:00:00+01:00"), "300");
    assert_eq!(at("2026-12-05T12:15:00+01:00"), "300");
    // The system's offset applies: 11:15Z is 12:15 local (lunch).
    assert_eq!(at("2026-12-03T11:15:00Z"), "202");
    // Main number: operators in office hours, else Support.
    let v = dry(&[
        "--request-uri",
        "4930555000",
        "--at",
        "2026-12-03T18:00:00+01:00",
    ]);
    let r = only(&v);
    assert_eq!(r["appearance"], 1);
    assert_eq!(r["uri"], Value::Null);
    assert_eq!(r["destination"], "301");
}

#[test]
fn dry_run_ignored_and_busy() {
    // From an unknown address over UDP, not the XCC host: no line, ignored.
    let v = dry(&["--request-uri", "201", "--source", "203.0.113.7"]);
    let r = only(&v);
    assert_eq!(r["outcome"], "ignored");
    assert_eq!(r["line"], Value::Null);
    assert_eq!(
        steps(r).last().unwrap(),
        &("line.none".into(), "ignored".into())
    );
    // TCP: no line listens there.
    let v = dry(&["--request-uri", "201", "--transport", "tcp"]);
    assert_eq!(only(&v)["outcome"], "ignored");
    // The operators (the 49305552XX range, no fallback) busy: the line's 486.
    let v = dry(&["--request-uri", "4930555299", "--busy", "399"]);
    let r = only(&v);
    assert_eq!(
        (r["outcome"].as_str(), r["response"].as_u64()),
        (Some("busy"), Some(486))
    );
    assert_eq!(
        (r["route"].as_u64(), r["destination"].as_str()),
        (Some(3), None)
    );
    // XCC calls an unknown name on the Use Internal Data URI: presented as dialled, and
    // the trace says it is no SIP name.
    let v = dry(&[
        "--request-uri",
        "nobody@127.0.0.10",
        "--source",
        "127.0.0.20",
        "--from",
        "anna@xcc.example",
    ]);
    let r = only(&v);
    assert_eq!(r["line"], 18);
    assert_eq!(r["outcome"], "routed");
    let res = steps(r);
    assert!(
        res.contains(&("destination.resolve".into(), "no-match".into())),
        "{res:?}"
    );
    // XCC calls a SIP name: Use Internal Data finds the group.
    let v = dry(&[
        "--request-uri",
        "support@127.0.0.10",
        "--source",
        "127.0.0.20",
        "--from",
        "anna@xcc.example",
    ]);
    assert_eq!(only(&v)["destination"], "301");
}

#[test]
fn dry_run_table_and_markdown() {
    let cfg = example();
    let base = [
        "ipo-route",
        "--config",
        &cfg,
        "--dry-run",
        "--request-uri",
        "4930555201@127.0.0.10",
        "--from",
        "+4930999111@sip.provider.example",
        "--source",
        "127.0.0.1",
        "--at",
        "2026-12-03T09:30:00+01:00",
    ];
    let o = sipdiag(&base);
    assert!(o.status.success());
    let t = stdout(&o);
    assert!(
        t.starts_with("1 call(s) replayed: 1 routed, 0 busy, 0 ignored\n"),
        "{t}"
    );
    assert!(
        t.contains("routed to 201 (fallback 300) [line 17, uri 2, route 4]"),
        "{t}"
    );
    assert!(t.contains("line.association"), "{t}");
    let mut md = base.to_vec();
    md.extend(["-f", "markdown"]);
    let m = stdout(&sipdiag(&md));
    assert!(m.starts_with("# IP Office incoming call routing\n"), "{m}");
    assert!(
        m.contains("**routed to 201 (fallback 300) [line 17, uri 2, route 4]**"),
        "{m}"
    );
    assert!(m.contains("| 13 | `route.select` |"), "{m}");
    assert!(m.contains("Several matches → the most precise"), "{m}");
}

#[test]
fn bad_configuration_and_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "[system]\naddresses = []\n[[line]]\nnumber = 1\nport_number = 5\n",
    )
    .unwrap();
    let o = sipdiag(&[
        "ipo-route",
        "--config",
        p.to_str().unwrap(),
        "--dry-run",
        "--request-uri",
        "1",
        "--from",
        "2",
        "--source",
        "192.0.2.1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.toml") && e.contains("port_number"), "{e}");
    // --dry-run without --from.
    let cfg = example();
    let o = sipdiag(&[
        "ipo-route",
        "--config",
        &cfg,
        "--dry-run",
        "--request-uri",
        "1",
        "--source",
        "192.0.2.1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--from"));
    let o = sipdiag(&[
        "ipo-route",
        "--config",
        &cfg,
        "--dry-run",
        "--request-uri",
        "1",
        "--from",
        "2",
        "--source",
        "192.0.2.1",
        "--at",
        "yesterday",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("RFC 3339"));
}

/// `ipo-route --config example.toml CAPTURE -f json`.
fn replay(capture: &str, config: &str) -> Value {
    let cfg = testdata(&format!("ipoffice/{config}"))
        .display()
        .to_string();
    let cap = testdata(&format!("ipoffice/{capture}.pcap"))
        .display()
        .to_string();
    let o = sipdiag(&["ipo-route", "--config", &cfg, &cap, "-f", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&stdout(&o)).expect("JSON")
}

/// tshark's (frame, message) of a fixture, from its committed listing.
fn oracle(capture: &str) -> Vec<(u64, String)> {
    common::tsv(&testdata(&format!("ipoffice/{capture}.sip.tsv")), "frame")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[5].clone()))
        .collect()
}

/// The frames tshark shows for `message` (a method or a status code).
fn frames_of(capture: &str, message: &str) -> Vec<u64> {
    oracle(capture)
        .into_iter()
        .filter(|(_, m)| m == message)
        .map(|(f, _)| f)
        .collect()
}

#[test]
fn capture_ignored_call_agrees() {
    let v = replay("ipo-ignored", "example.toml");
    let r = only(&v);
    // Two INVITE frames (a retransmission): one call, replayed from the first.
    assert_eq!(frames_of("ipo-ignored", "INVITE"), [1, 2]);
    assert_eq!(r["invite_frame"], 1);
    assert_eq!(r["call_id"], "2146100b168a4b1128173691@127.0.0.5");
    assert_eq!(r["outcome"], "ignored");
    assert_eq!(
        r["observed"],
        serde_json::json!({"response": null, "frame": null})
    );
    assert_eq!(r["agrees"], true);
    let why = &r["steps"][1]["compared"];
    assert_eq!(
        why,
        "line 17: source-ip source 127.0.0.5 vs itsp_proxy [127.0.0.1]"
    );
}

#[test]
fn capture_busy_486_agrees() {
    let v = replay("ipo-busy-486", "example.toml");
    let r = only(&v);
    assert_eq!(
        (r["outcome"].as_str(), r["response"].as_u64()),
        (Some("busy"), Some(486))
    );
    assert_eq!((r["line"].as_u64(), r["uri"].as_u64()), (Some(17), Some(2)));
    assert_eq!(r["route"], Value::Null);
    assert_eq!(r["failure"], "route");
    assert_eq!(frames_of("ipo-busy-486", "486"), [3]);
    assert_eq!(
        r["observed"],
        serde_json::json!({"response": 486, "frame": 3})
    );
    assert_eq!(r["agrees"], true);
}

#[test]
fn capture_routed_call_agrees() {
    let v = replay("ipo-routed", "example.toml");
    let r = only(&v);
    assert_eq!(r["outcome"], "routed");
    assert_eq!(
        (r["route"].as_u64(), r["destination"].as_str()),
        (Some(4), Some("201"))
    );
    assert_eq!(frames_of("ipo-routed", "200")[0], 4);
    assert_eq!(
        r["observed"],
        serde_json::json!({"response": 200, "frame": 4})
    );
    assert_eq!(r["agrees"], true);
}

#[test]
fn capture_second_call_finds_the_xcc_uri_full_503() {
    let v = replay("ipo-xcc-busy-503", "example.toml");
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(frames_of("ipo-xcc-busy-503", "INVITE"), [1, 6]);
    let (a, b) = (&routes[0], &routes[1]);
    assert_eq!(
        (a["invite_frame"].as_u64(), a["outcome"].as_str()),
        (Some(1), Some("routed"))
    );
    assert_eq!(
        (a["line"].as_u64(), a["destination"].as_str()),
        (Some(18), Some("201"))
    );
    assert_eq!(b["invite_frame"], 6);
    assert_eq!(
        (b["outcome"].as_str(), b["response"].as_u64()),
        (Some("busy"), Some(503))
    );
    let skipped = b["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["result"] == "skipped")
        .expect("the full URI is skipped");
    assert_eq!(
        skipped["why"],
        "matches but is full: 1 in use ≥ max_sessions 1"
    );
    assert_eq!(
        b["observed"],
        serde_json::json!({"response": 503, "frame": 8})
    );
    assert!(routes.iter().all(|r| r["agrees"] == true));
}

#[test]
fn capture_time_profiled_route_agrees() {
    let v = replay("ipo-time-profile", "example.toml");
    let r = only(&v);
    // 11:15Z is 12:15 local on a Thursday: lunch, the bottom pair → Ben (202).
    assert_eq!(r["local_time"], "2026-12-03 12:15 (thu)");
    assert_eq!((r["uri"].as_u64(), r["route"].as_u64()), (Some(1), Some(1)));
    assert_eq!(
        (r["destination"].as_str(), r["fallback"].as_str()),
        (Some("202"), Some("300"))
    );
    let tp: Vec<_> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "destination.time-profile")
        .map(|s| s["result"].as_str().unwrap())
        .collect();
    assert_eq!(tp, ["true"]);
    assert_eq!(r["agrees"], true);
}

#[test]
fn capture_with_a_wrong_configuration_disagrees() {
    let v = replay("ipo-xcc-busy-503", "wrong-sessions.toml");
    let b = &v["routes"][1];
    assert_eq!(b["outcome"], "routed");
    assert_eq!(
        b["observed"],
        serde_json::json!({"response": 503, "frame": 8})
    );
    assert_eq!(b["agrees"], false);
    let cfg = testdata("ipoffice/wrong-sessions.toml")
        .display()
        .to_string();
    let cap = testdata("ipoffice/ipo-xcc-busy-503.pcap")
        .display()
        .to_string();
    let t = stdout(&sipdiag(&["ipo-route", "--config", &cfg, &cap]));
    assert!(t.contains("the capture agrees on 1 of 2"), "{t}");
    assert!(
        t.contains("capture: 503 Service Unavailable (frame 8) — CONTRADICTS the replay"),
        "{t}"
    );
}

#[test]
fn readme_worked_example_is_current() {
    let cfg = "testdata/ipoffice/example.toml";
    let cap = "testdata/ipoffice/ipo-busy-486.pcap";
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(["ipo-route", "--config", cfg, cap])
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block = format!(
        "$ sipdiag ipo-route --config {cfg} {cap}\n{}```",
        stdout(&o)
    );
    assert!(
        readme.contains(&block),
        "the README's worked example differs from today's output:\n{}",
        stdout(&o)
    );
}

/// `analyze CAPTURE [flags] -f json`: the findings' (id, frames, message).
fn analyze(capture: &str, flags: &[&str]) -> Vec<(String, Vec<u64>, String)> {
    let cap = testdata(&format!("ipoffice/{capture}.pcap"))
        .display()
        .to_string();
    let mut args = vec!["analyze", &cap, "-f", "json", "--fail-on", "none"];
    args.extend_from_slice(flags);
    let o = sipdiag(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ids(f: &[(String, Vec<u64>, String)]) -> Vec<&str> {
    let mut v: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    v.sort_unstable();
    v
}

fn example_flag() -> [String; 2] {
    ["--ipo-config".into(), example()]
}

#[test]
fn ipo001_ignored_call_with_an_address_or_a_configuration() {
    // Nothing identifies 127.0.0.10 as IP Office (it never answers): no finding.
    assert!(
        ids(&analyze("ipo-ignored", &[]))
            .iter()
            .all(|i| !i.starts_with("IPO"))
    );
    // Named with --ipo: the finding lists the line-matching inputs.
    let f = analyze("ipo-ignored", &["--ipo", "127.0.0.10"]);
    assert_eq!(ids(&f), ["IPO001"]);
    assert_eq!(f[0].1, frames_of("ipo-ignored", "INVITE"));
    assert!(
        f[0].2.contains("Check a line listening on udp port 5060, and its association method against: source 127.0.0.5, From host `sip.provider.example`, To host `127.0.0.10`, R-URI host `127.0.0.10`"),
        "{}",
        f[0].2
    );
    // With the configuration: the replay's line matching, comparison by comparison.
    let [k, v] = example_flag();
    let f = analyze("ipo-ignored", &[&k, &v]);
    assert_eq!(ids(&f), ["IPO001"]);
    assert!(
        f[0].2
            .contains("The replay of the configuration agrees: no SIP line matches.")
    );
    assert!(
        f[0].2
            .contains("line 17: source-ip source 127.0.0.5 vs itsp_proxy [127.0.0.1]: no-match"),
        "{}",
        f[0].2
    );
}

#[test]
fn ipo002_busy_at_once_without_and_with_a_configuration() {
    // The Server header identifies IP Office; the 503 came at once.
    let f = analyze("ipo-xcc-busy-503", &[]);
    assert_eq!(ids(&f), ["IPO002", "SP003"], "{f:?}");
    let ipo = f.iter().find(|x| x.0 == "IPO002").unwrap();
    assert_eq!(ipo.1, [6, 7, 8, 9]);
    assert!(
        ipo.2.contains("was answered 503 (frame 8) without ringing"),
        "{}",
        ipo.2
    );
    // With the configuration: the URI was full.
    let [k, v] = example_flag();
    let f = analyze("ipo-xcc-busy-503", &[&k, &v]);
    assert_eq!(ids(&f), ["IPO002", "SP003"], "{f:?}");
    let ipo = f.iter().find(|x| x.0 == "IPO002").unwrap();
    assert!(ipo.2.contains("uri 1 local_uri `use-internal-data` vs `support`: skipped — matches but is full: 1 in use ≥ max_sessions 1"), "{}", ipo.2);
    // Without a configuration a 486 is IPO002 too, and SIP001 leaves it to the IPO rule.
    assert_eq!(ids(&analyze("ipo-busy-486", &[])), ["IPO002"]);
}

#[test]
fn ipo003_no_route_with_a_configuration() {
    let [k, v] = example_flag();
    let f = analyze("ipo-busy-486", &[&k, &v]);
    assert_eq!(ids(&f), ["IPO003"]);
    assert_eq!(f[0].1, [1, 2, 3, 4]);
    assert!(f[0].2.contains("was answered 486 (frame 3). The replay of the configuration: line 17, SIP URI 2, then no incoming call route matched."), "{}", f[0].2);
    assert!(
        f[0].2
            .contains("`4930555999` is no extension: busy, call dropped"),
        "{}",
        f[0].2
    );
}

#[test]
fn ipo004_wrong_configuration() {
    let cfg = testdata("ipoffice/wrong-sessions.toml")
        .display()
        .to_string();
    let f = analyze("ipo-xcc-busy-503", &["--ipo-config", &cfg]);
    assert_eq!(ids(&f), ["IPO004", "SP003"], "{f:?}");
    let ipo = f.iter().find(|x| x.0 == "IPO004").unwrap();
    assert_eq!(ipo.1, [6, 7, 8, 9]);
    assert!(ipo.2.contains("the replay of the configuration predicts a routed call (to 301), the capture shows 503 in frame 8"), "{}", ipo.2);
}

#[test]
fn ipo_rules_stay_quiet_on_healthy_calls() {
    let [k, v] = example_flag();
    for cap in ["ipo-routed", "ipo-time-profile"] {
        for flags in [&[][..], &[k.as_str(), v.as_str()][..]] {
            let f = analyze(cap, flags);
            assert!(
                ids(&f)
                    .iter()
                    .all(|i| !i.starts_with("IPO") && *i != "SIP001"),
                "{cap}: {f:?}"
            );
        }
    }
}

#[test]
fn capture_bye_frees_the_session_for_the_next_call() {
    // As ipo-xcc-busy-503, but the first call ends (BYE, frame 6) before the second INVITE
    // (frame 8): line 18's single session is free again and both calls are routed.
    assert_eq!(frames_of("ipo-xcc-sequential", "BYE")[0], 6);
    let v = replay("ipo-xcc-sequential", "example.toml");
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[1]["invite_frame"], 8);
    assert_eq!(routes[1]["destination"], "301");
    let uri = routes[1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "uri.uri")
        .unwrap();
    assert_eq!(uri["why"], "matches, 0 in use: incoming group 18");
    assert!(
        routes
            .iter()
            .all(|r| r["outcome"] == "routed" && r["agrees"] == true)
    );
}

#[test]
fn followme_capture_starting_with_a_provider_call_shows_both_parts() {
    // The provider's call into IP Office (frame 1) and IP Office's forward to XCC
    // (frame 3, answered 503 in frame 6).
    assert_eq!(frames_of("ipo-followme-503", "INVITE"), [1, 3]);
    assert_eq!(frames_of("ipo-followme-503", "503"), [6]);
    // ipo-route replays only the INVITE sent to IP Office.
    let v = replay("ipo-followme-503", "example.toml");
    let r = only(&v);
    assert_eq!(
        (r["invite_frame"].as_u64(), r["route"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        (r["destination"].as_str(), r["agrees"].as_bool()),
        (Some("201"), Some(true))
    );
    // analyze with the configuration: the Follow-Me finding for the XCC leg, and no IPO
    // finding, since IP Office routed the provider's call as configured.
    let [k, v] = example_flag();
    let f = analyze("ipo-followme-503", &[&k, &v]);
    assert_eq!(ids(&f), ["FM002"]);
    assert_eq!(f[0].1, [3, 4, 6, 7]);
    // With a file that disagrees about that call (another provider proxy address: the
    // replay predicts an ignored call), both parts have a finding.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other-proxy.toml");
    let text = std::fs::read_to_string(example()).unwrap().replace(
        r#"itsp_proxy = ["127.0.0.1"]"#,
        r#"itsp_proxy = ["127.0.0.2"]"#,
    );
    std::fs::write(&p, text).unwrap();
    let f = analyze("ipo-followme-503", &["--ipo-config", p.to_str().unwrap()]);
    assert_eq!(ids(&f), ["FM002", "IPO004"], "{f:?}");
}
