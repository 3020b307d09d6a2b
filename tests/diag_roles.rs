//! Roles and what the capture holds: XCC only on strong evidence, every gateway named,
//! FM001 only where XCC is known (fixtures in testdata/followme, made by make.sh).

mod common;

use common::{frames, ids};

use serde_json::Value;

fn analyze_path(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "-f", "json", "--fail-on", "none", path];
    args.extend_from_slice(extra);
    let o = common::sipdiag(&args);
    assert!(
        o.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

fn analyze(fixture: &str, extra: &[&str]) -> Value {
    let p = common::testdata(&format!("followme/{fixture}"));
    analyze_path(p.to_str().unwrap(), extra)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

const NO_XCC: &str = "no XPhone server identified; use --xcc ADDR if one is in the capture";

/// A forwarded INVITE reaching a B2BUA that is not XCC (it calls onward, not back to the
/// PBX): no XCC, no Follow-Me rule; the generic SIP001 speaks for both failed calls.
#[test]
fn b2bua_with_diversion_is_not_xcc() {
    let v = analyze("roles-b2bua-not-xcc.pcap", &[]);
    assert_eq!(v["roles"]["xcc"], serde_json::json!([]));
    assert_eq!(v["roles"]["pbx"], serde_json::json!([]));
    assert!(
        strings(&v["roles"]["reasons"]).contains(&NO_XCC.to_string()),
        "{}",
        v["roles"]
    );
    assert_eq!(ids(&v), ["SIP001", "SIP001"]);
    let f = &v["findings"].as_array().unwrap();
    // The forwarded call (PBX → box: INVITE 1, 486 in frame 8) and the box's onward call
    // (INVITE 4, 486 in frame 6).
    let mut cited: Vec<Vec<u64>> = f.iter().map(frames).collect();
    cited.sort();
    assert!(cited[0].contains(&1) && cited[0].contains(&8), "{cited:?}");
    assert!(cited[1].contains(&4) && cited[1].contains(&6), "{cited:?}");
    for f in f.iter() {
        assert!(f["message"].as_str().unwrap().contains("486 Busy Here"));
    }
    assert!(
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["leg"] == "other")
    );
    // The terminal report says so.
    let p = common::testdata("followme/roles-b2bua-not-xcc.pcap");
    let out = common::stdout(&common::sipdiag(&["analyze", p.to_str().unwrap()]));
    assert!(out.contains(&format!("Roles: {NO_XCC}")), "{out}");
    // --xcc still makes the box XCC: then the Follow-Me rules judge it.
    let v = analyze("roles-b2bua-not-xcc.pcap", &["--xcc", "127.0.0.50"]);
    assert_eq!(v["roles"]["xcc"][0], "127.0.0.50");
    assert!(ids(&v).iter().any(|i| i.starts_with("FM")), "{:?}", ids(&v));
}

/// A first leg answered 503 by a box that does not name itself, with no second leg:
/// receiving a forwarded INVITE alone does not make XCC; --xcc does.
#[test]
fn forwarded_invite_alone_is_not_xcc() {
    for fixture in ["fm002-national0.pcap", "fm002-plus-internal.pcap"] {
        let v = analyze(fixture, &[]);
        assert_eq!(v["roles"]["xcc"], serde_json::json!([]), "{fixture}");
        assert_eq!(ids(&v), ["SIP001"], "{fixture}");
        assert_eq!(frames(&v["findings"][0])[..3], [1, 2, 3], "{fixture}");
        let v = analyze(fixture, &["--xcc", "127.0.0.20"]);
        assert_eq!(ids(&v), ["FM002"], "{fixture}");
    }
}

/// XCC's whole Follow-Me behaviour (forwarded INVITE in, new INVITE back to the same PBX
/// for the same caller) identifies it without any agent string.
#[test]
fn follow_me_behaviour_identifies_xcc() {
    for (fixture, first, second) in [
        ("fm007-second-leg-488.pcap", 1, 4),
        ("healthy-history-info-tcp.pcap", 4, 13),
    ] {
        let v = analyze(fixture, &[]);
        assert_eq!(
            v["roles"]["xcc"],
            serde_json::json!(["127.0.0.20"]),
            "{fixture}"
        );
        let reasons = strings(&v["roles"]["reasons"]).join("\n");
        assert!(
            reasons.contains(&format!(
                "receives a forwarded INVITE from 127.0.0.10 (frame {first}) and sends a new INVITE back to it"
            )) && reasons.contains(&format!("(frame {second})")),
            "{fixture}: {reasons}"
        );
        assert!(
            !reasons.contains("identifies itself"),
            "{fixture}: {reasons}"
        );
    }
}

/// Three gateways each send XCC a call: all three are named.
#[test]
fn every_gateway_sending_invites_to_xcc_is_named() {
    let v = analyze("roles-three-gateways.pcap", &[]);
    assert_eq!(v["roles"]["xcc"], serde_json::json!(["127.0.0.20"]));
    assert_eq!(
        v["roles"]["pbx"],
        serde_json::json!(["127.0.0.10", "127.0.0.11", "127.0.0.12"])
    );
    let reasons = strings(&v["roles"]["reasons"]);
    for gw in ["127.0.0.10", "127.0.0.11", "127.0.0.12"] {
        assert!(
            reasons.contains(&format!("PBX is {gw}: sends 1 INVITE(s) to XCC")),
            "{reasons:?}"
        );
    }
    assert!(
        reasons[0].starts_with("XCC is 127.0.0.20: identifies itself as \"XPhone Connect XCC\""),
        "{reasons:?}"
    );
    assert_eq!(ids(&v), Vec::<String>::new());
    // All three calls are first legs.
    let legs: Vec<&Value> = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["leg"])
        .collect();
    assert_eq!(legs, ["first", "first", "first"]);
}

/// A scanner's `OPTIONS sip:nm` probe: no "No INVITE reached XCC", only the roles line
/// saying that the capture holds no call.
#[test]
fn options_probe_without_xcc_is_not_fm001() {
    let v = analyze("roles-options-scanner.pcap", &[]);
    assert_eq!(ids(&v), Vec::<String>::new());
    assert_eq!(
        strings(&v["roles"]["reasons"]),
        [
            NO_XCC,
            "the capture holds no call: 4 SIP message(s) (OPTIONS), no INVITE"
        ]
    );
    // The idle trunk whose XCC names itself keeps FM001, without --xcc.
    let v = analyze("fm001-no-invite.pcap", &[]);
    assert_eq!(ids(&v), ["FM001"]);
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "error");
    assert_eq!(frames(f), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("no INVITE towards XCC"),
        "{f}"
    );
}

/// Public captures without an XPhone server: no XCC, no Follow-Me finding.
#[test]
fn public_captures_without_xphone_get_no_xcc_and_no_fm_rule() {
    let Some(dir) = common::corpus() else {
        return;
    };
    for (file, generic) in [
        // A History-Info receiver (a proxy): once taken as XCC.
        ("goffinet/voip-extension.pcap", None),
        // An Avaya CM trunk: once FM009 "Second leg failed"; the unanswered INVITE is
        // generic now.
        ("heplify/sip_ipv4_tcp_fragmented.pcap", Some("SIP001")),
        // REGISTER / OPTIONS only: once FM001.
        ("goffinet/sip-register-ok-unregister.pcapng", None),
        ("suricata-verify/sip-options-method/input.pcap", None),
        ("ndpi/webex.pcap", None),
    ] {
        let p = dir.join(file);
        let v = analyze_path(p.to_str().unwrap(), &[]);
        assert_eq!(v["roles"]["xcc"], serde_json::json!([]), "{file}");
        let found = ids(&v);
        assert!(
            !found.iter().any(|i| i.starts_with("FM")),
            "{file}: {found:?}"
        );
        if let Some(g) = generic {
            assert!(found.iter().any(|i| i == g), "{file}: {found:?}");
        }
        assert!(
            strings(&v["roles"]["reasons"]).contains(&NO_XCC.to_string()),
            "{file}"
        );
    }
}

fn diag(fixture: &str) -> Value {
    let p = common::testdata(&format!("diag/{fixture}"));
    analyze_path(p.to_str().unwrap(), &[])
}

fn of<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// SIP over TLS, softphone TLS and HTTPS in one capture: CAP003 once per signalling
/// connection (both directions together), at error level as the headline; nothing for
/// HTTPS; no CAP002.
#[test]
fn encrypted_signalling_is_the_headline_once_per_connection() {
    let v = diag("tls-signalling-and-https.pcap");
    let mut found = ids(&v);
    found.sort();
    assert_eq!(found, ["CAP003", "CAP003", "SP003"], "{found:?}");
    let cap003 = of(&v, "CAP003");
    let mut cited: Vec<Vec<u64>> = cap003.iter().map(|f| frames(f)).collect();
    cited.sort();
    assert_eq!(cited, [vec![4, 6], vec![24, 26]]);
    for f in &cap003 {
        assert_eq!(f["severity"], "error", "{f}");
        let m = f["message"].as_str().unwrap();
        assert!(m.contains("only encrypted"), "{m}");
        assert!(m.contains("key log"), "{m}");
        assert!(m.contains("XCC side"), "{m}");
        // Both directions named in the one finding.
        assert_eq!(
            f["evidence"]["directions"].as_array().unwrap().len(),
            2,
            "{f}"
        );
        assert!(!m.contains(":443"), "{m}");
    }
    let servers: Vec<&str> = cap003
        .iter()
        .map(|f| f["evidence"]["server"].as_str().unwrap())
        .collect();
    assert!(servers.contains(&"127.0.0.20:5061"), "{servers:?}");
    assert!(servers.contains(&"127.0.0.20:2230"), "{servers:?}");
    // The headline comes first.
    assert_eq!(v["findings"][0]["id"], "CAP003");
}

/// HTTPS alone is not signalling: no CAP003; CAP002 says no SIP, and that the TLS seen was
/// not on a signalling port.
#[test]
fn https_is_not_encrypted_signalling() {
    let v = diag("https-only.pcap");
    assert_eq!(ids(&v), ["CAP002"]);
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert!(m.contains("28 frame(s) read"), "{m}");
    assert!(m.contains("not on a signalling port"), "{m}");
}

/// The corpus's SIP-over-TLS capture: two connections, four directions → two CAP003, no
/// CAP002.
#[test]
fn public_tls_capture_gets_cap003_per_connection() {
    let Some(dir) = common::corpus() else {
        return;
    };
    let v = analyze_path(dir.join("sngrep/tlssaved.pcap").to_str().unwrap(), &[]);
    assert_eq!(ids(&v), ["CAP003", "CAP003"]);
    let mut cited: Vec<Vec<u64>> = of(&v, "CAP003").iter().map(|f| frames(f)).collect();
    cited.sort();
    assert_eq!(cited, [vec![1, 2], vec![9, 10]]);
}

/// SIP messages of a capture, as (frame, call-id, kind), against tshark's listing.
fn assert_messages_match_tshark(fixture: &str) {
    let p = common::testdata(&format!("diag/{fixture}"));
    let (msgs, _) = common::messages(&p);
    let name = fixture.rsplit_once('.').unwrap().0;
    let expected = common::oracle_keys(&common::tsv(
        &common::testdata(&format!("diag/{name}.sip.tsv")),
        "frame\t",
    ));
    assert_eq!(common::message_keys(&msgs), expected, "{fixture}");
}

/// ERF Ethernet records (with and without an extension header) are decoded: the same SIP
/// messages as tshark, and the same diagnosis as the Ethernet original.
#[test]
fn erf_records_are_decoded() {
    assert_messages_match_tshark("erf-sip-call.pcapng");
    let (msgs, _) = common::messages(&common::testdata("diag/erf-sip-call.pcapng"));
    assert_eq!(msgs.len(), 4);
    let v = diag("erf-sip-call.pcapng");
    assert_eq!(ids(&v), ["SIP001"]);
    assert_eq!(frames(&v["findings"][0]), [1, 2, 3, 4]);
    assert!(v["captures"][0]["anomalies"].as_array().unwrap().is_empty());
}

/// A link type sipdiag cannot decode: the finding names it and the frames skipped, with
/// no advice about port filters.
#[test]
fn undecoded_link_type_is_named() {
    assert_messages_match_tshark("unknown-linktype.pcapng");
    let v = diag("unknown-linktype.pcapng");
    assert_eq!(ids(&v), ["CAP002"]);
    let f = &v["findings"][0];
    assert_eq!(
        f["title"],
        "No SIP decoded: 4 frame(s) with link type 147 (USER0) skipped"
    );
    assert_eq!(f["evidence"]["frames_skipped"], 4);
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("not a filter problem"), "{m}");
    assert!(!m.contains("do not filter by port"), "{m}");
    // Beside an interface that holds SIP: the SIP is analysed, the skipped frames named.
    assert_messages_match_tshark("mixed-linktypes.pcapng");
    let v = diag("mixed-linktypes.pcapng");
    let mut found = ids(&v);
    found.sort();
    assert_eq!(found, ["CAP001", "SIP001"]);
    let f = of(&v, "CAP001")[0];
    assert_eq!(f["severity"], "warning");
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("4 frame(s) with link type 147 (USER0)"), "{m}");
}

/// ERF records of a type that carries no Ethernet or IP (ATM cells): named with the ERF
/// type and the count.
#[test]
fn undecoded_erf_record_type_is_named() {
    assert_messages_match_tshark("erf-atm.pcapng");
    let v = diag("erf-atm.pcapng");
    assert_eq!(ids(&v), ["CAP002"]);
    assert_eq!(
        v["findings"][0]["title"],
        "No SIP decoded: 4 ERF record(s) of type 3 skipped"
    );
    assert_eq!(v["findings"][0]["evidence"]["frames_skipped"], 4);
}

struct Whole(sipdiag::calls::CallSet);

impl sipdiag::app::Sink for Whole {
    fn message(&mut self, m: sipdiag::sip::SipMessage) {
        self.0.add(m);
    }
}

/// The roles of a whole capture, gathered unit by unit (a first leg with its linked
/// second legs, every other call alone) in reverse capture order, equal those found on
/// all calls at once: reasons, quoted evidence and PBX counts included. Every fixture
/// and public corpus capture, with and without `--xcc`.
#[test]
fn roles_tallied_unit_by_unit_in_any_order_equal_the_whole_capture_s() {
    use sipdiag::calls::legs::{Endpoint, KnownXcc, RoleTally, infer_roles, link_legs};
    let files = common::fixtures_and_corpus(&["followme", "ipoffice", "diag", "calls", "media"]);
    let (mut with_xcc, mut with_pbx) = (0, 0);
    for p in &files {
        let mut w = Whole(Default::default());
        let path = p.to_str().unwrap().to_string();
        let _ = sipdiag::app::scan(&path, &mut w);
        let calls = w.0.calls;
        let whole = infer_roles(&calls, &[], &[]);
        let legs = link_legs(&calls, &whole);
        // Units: the calls linked with each other.
        let unit = legs.units(&calls);
        let mut units: std::collections::BTreeMap<usize, Vec<sipdiag::calls::Call>> =
            Default::default();
        for (i, c) in calls.iter().enumerate() {
            units.entry(unit[i]).or_default().push(c.clone());
        }
        let mut tally = RoleTally::new(&[]);
        for u in units.values().rev() {
            tally.add(&u.iter().collect::<Vec<_>>());
        }
        let streamed = tally.roles(&[], &[], &KnownXcc::default());
        assert_eq!(streamed.xcc, whole.xcc, "{path}");
        assert_eq!(streamed.pbx, whole.pbx, "{path}");
        assert_eq!(streamed.reasons, whole.reasons, "{path}");
        // XCC from the evidence first, then the PBXs from the INVITEs to and from it (what
        // `analyze` reading a file twice does).
        let mut first = RoleTally::new(&[]);
        first.without_pairs();
        for u in units.values().rev() {
            first.add(&u.iter().collect::<Vec<_>>());
        }
        let known = first.roles(&[], &[], &KnownXcc::default());
        assert_eq!(known.xcc, whole.xcc, "{path}");
        for u in units.values() {
            first.add_xcc_invites(u, &known);
        }
        let twice = first.roles(&[], &[], &KnownXcc::default());
        assert_eq!(twice.pbx, whole.pbx, "{path}");
        assert_eq!(twice.reasons, whole.reasons, "{path}");
        with_xcc += usize::from(!whole.xcc.is_empty());
        with_pbx += usize::from(!whole.pbx.is_empty());
        // Given XCC (with a port: INVITEs are told apart by port).
        if let Some(c) = calls.iter().find(|c| !c.invites.is_empty()) {
            let t = &c.invites[0];
            let given = [Endpoint::parse(&std::net::SocketAddr::from(t.dst).to_string()).unwrap()];
            let whole = infer_roles(&calls, &given, &[]);
            let mut tally = RoleTally::new(&given);
            for u in units.values().rev() {
                tally.add(&u.iter().collect::<Vec<_>>());
            }
            let streamed = tally.roles(&given, &[], &KnownXcc::default());
            assert_eq!(streamed.pbx, whole.pbx, "{path} --xcc");
            assert_eq!(streamed.reasons, whole.reasons, "{path} --xcc");
        }
    }
    // The comparison covers captures where XCC and the PBXs are found.
    assert!(with_xcc >= 10 && with_pbx >= 10, "{with_xcc} {with_pbx}");
}
