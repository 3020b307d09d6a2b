//! With an IP Office configuration whose addresses are known before the capture is read,
//! `analyze` and `watch` replay its routing as the INVITEs come, holding only the calls
//! in progress: the same report as with every call held (`--in-memory`), the sessions a
//! call holds counted for the calls after it whichever unit each is judged in.

mod common;

use common::{fixtures_and_corpus, sipdiag, testdata};

/// Standard output, standard error and exit code of `analyze ARGS`, streamed and held.
fn same(args: &[&str]) -> String {
    let streamed = sipdiag(args);
    let mut held_args = args.to_vec();
    held_args.insert(1, "--in-memory");
    let held = sipdiag(&held_args);
    let text = String::from_utf8_lossy(&streamed.stdout).into_owned();
    assert_eq!(text, String::from_utf8_lossy(&held.stdout), "{args:?}");
    assert_eq!(
        String::from_utf8_lossy(&streamed.stderr),
        String::from_utf8_lossy(&held.stderr),
        "{args:?}"
    );
    assert_eq!(streamed.status.code(), held.status.code(), "{args:?}");
    text
}

fn path(p: &str) -> String {
    testdata(p).to_str().unwrap().to_string()
}

#[test]
fn analyze_with_a_configuration_reports_as_with_every_call_held() {
    let example = path("ipoffice/example.toml");
    let mut ipo_findings = 0;
    let dirs = ["followme", "diag", "ipoffice", "calls", "media", "extract"];
    for file in fixtures_and_corpus(&dirs) {
        let file = file.to_str().unwrap();
        for format in ["json", "table"] {
            let text = same(&["analyze", "--ipo-config", &example, "-f", format, file]);
            ipo_findings += usize::from(format == "json" && text.contains("\"IPO00"));
        }
    }
    // Three IP Office fixtures, and two others whose PBX is at the configuration's
    // address, give IPO findings.
    assert!(ipo_findings >= 5, "{ipo_findings}");
}

#[test]
fn the_session_of_an_earlier_call_counts_streamed_as_held() {
    let example = path("ipoffice/example.toml");
    let wrong = path("ipoffice/wrong-sessions.toml");
    let busy = path("ipoffice/ipo-xcc-busy-503.pcap");
    let sequential = path("ipoffice/ipo-xcc-sequential.pcap");
    // The first call holds line 18's one session: the second's 503 is what the file
    // predicts (IPO002); with two sessions it contradicts it (IPO004).
    let text = same(&["analyze", "--ipo-config", &example, &busy]);
    assert!(
        text.contains("[IPO002]") && !text.contains("IPO004"),
        "{text}"
    );
    let text = same(&["analyze", "--ipo-config", &wrong, &busy]);
    assert!(
        text.contains("[IPO004]") && !text.contains("IPO002"),
        "{text}"
    );
    // The first call's BYE freed the session: the second is routed, as the capture shows.
    let text = same(&["analyze", "--ipo-config", &example, &sequential]);
    assert!(!text.contains("IPO0"), "{text}");
    // Addresses given rather than configured; none at all (the IP Office is found by
    // its User-Agent in the calls, which are then held).
    let empty = tempfile::tempdir().unwrap();
    let no_addresses = empty.path().join("no-addresses.toml");
    let cfg = std::fs::read_to_string(&example)
        .unwrap()
        .replace("addresses = [\"127.0.0.10\"]", "addresses = []");
    std::fs::write(&no_addresses, cfg).unwrap();
    let no_addresses = no_addresses.to_str().unwrap();
    for ipo in [&["--ipo", "127.0.0.10"][..], &[]] {
        let mut args = vec!["analyze", "--ipo-config", no_addresses];
        args.extend(ipo);
        args.push(&busy);
        let text = same(&args);
        assert!(text.contains("[IPO002]"), "{args:?}: {text}");
    }
}

#[test]
fn watch_replays_the_routing_across_the_calls_it_judges_one_by_one() {
    let example = path("ipoffice/example.toml");
    let watch = |capture: &str| {
        let o = sipdiag(&["watch", "--ipo-config", &example, &path(capture)]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // Each call is its own unit: the second sees the first call's session all the same.
    let text = watch("ipoffice/ipo-xcc-busy-503.pcap");
    assert!(text.contains("[IPO002 ipo-no-uri-match]"), "{text}");
    assert!(!text.contains("IPO004"), "{text}");
    let text = watch("ipoffice/ipo-xcc-sequential.pcap");
    assert!(!text.contains("IPO0"), "{text}");
}

/// `ipo-route` of the PBX side and the XCC side reads them merged by time, as `analyze`
/// does: the INVITE both points saw is replayed once, at its merged frame number (the
/// one `analyze` gives the call), and the table says how frames are numbered.
#[test]
fn ipo_route_of_two_capture_points_reads_them_merged() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pbx.toml");
    let text = std::fs::read_to_string(testdata("ipoffice/example.toml"))
        .unwrap()
        .replace(
            "addresses = [\"127.0.0.10\"]",
            "addresses = [\"10.99.0.10\"]",
        );
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let (pbx, xcc) = (
        path("followme/merge-pbx-side.pcap"),
        path("followme/merge-xcc-side.pcapng"),
    );
    let json = |args: &[&str]| -> serde_json::Value {
        let o = sipdiag(args);
        // analyze: 1 for its findings.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{args:?}: {o:?}");
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let routes = json(&["ipo-route", "--config", cfg, "-f", "json", &pbx, &xcc]);
    let routes = routes["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{routes:?}");
    let analysis = json(&["analyze", "--ipo-config", cfg, "-f", "json", &pbx, &xcc]);
    let call = (analysis["calls"].as_array().unwrap().iter())
        .find(|c| c["call_id"] == routes[0]["call_id"])
        .expect("the replayed call among analyze's");
    assert_eq!(routes[0]["invite_frame"], call["invite_frame"]);
    assert_eq!(routes[0]["invite_frame"], 7);
    let o = sipdiag(&["ipo-route", "--config", cfg, &pbx, &xcc]);
    let text = String::from_utf8_lossy(&o.stdout);
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Frames are numbered through the 2 files merged in time order"),
        "{text}"
    );
}
