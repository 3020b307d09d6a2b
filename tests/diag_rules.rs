//! Second legs and damaged captures: `sipdiag analyze` on real captures (sipp and tcpdump,
//! see testdata/followme/README.md and testdata/reader/README.md) for FM011 (rang, nobody
//! answered), FM008's authentication cases, 415 under FM009, CAP005 (SIP in IP fragments)
//! and what a damaged capture still shows (FM002 on a cut capture, CAP001's snaplen advice).

mod common;

use common::*;
use serde_json::Value;

fn analyze_path(path: &std::path::Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["analyze", "--format", "json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = sipdiag(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: bad JSON ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

fn analyze(fixture: &str) -> (Value, i32) {
    analyze_path(&testdata(fixture), SITE)
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap()
}

/// tshark's listing of a Follow-Me fixture: (frame, seconds since the first frame,
/// method or status, CSeq).
fn oracle(fixture: &str) -> Vec<(u64, f64, String, String)> {
    let name = fixture.trim_end_matches(".pcap");
    tsv(&testdata(&format!("{name}.sip.tsv")), "frame\t")
        .into_iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[5].clone(),
                r[6].clone(),
            )
        })
        .collect()
}

/// The frame of the `n`-th (0-based) message `what` with CSeq `cseq` in the oracle.
fn oracle_frame(rows: &[(u64, f64, String, String)], what: &str, cseq: &str, n: usize) -> u64 {
    rows.iter()
        .filter(|r| r.2 == what && r.3 == cseq)
        .nth(n)
        .unwrap_or_else(|| panic!("no {what} {cseq} #{n} in the oracle"))
        .0
}

const SITE: &[&str] = &[
    "--country-code",
    "49",
    "--internal-length",
    "3",
    "--outside-prefix",
    "0",
];

/// The second leg rang (180) and XCC cancelled it: FM011 with the ringing time measured
/// between tshark's 180 and CANCEL, not FM009's routing advice.
#[test]
fn second_leg_rang_and_nobody_answered_is_fm011() {
    let fx = "followme/fm009-second-leg-cancel.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM011"], "{}", v["findings"]);
    let f = finding(&v, "FM011");
    assert_eq!(f["slug"], "second-leg-not-answered");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        code, 0,
        "a warning does not fail the default --fail-on error"
    );
    let rows = oracle(fx);
    let invite = oracle_frame(&rows, "INVITE", "1 INVITE", 1);
    let ringing = oracle_frame(&rows, "180", "1 INVITE", 1);
    let cancel = oracle_frame(&rows, "CANCEL", "1 CANCEL", 0);
    let terminated = oracle_frame(&rows, "487", "1 INVITE", 0);
    let first_invite = oracle_frame(&rows, "INVITE", "1 INVITE", 0);
    let fr = frames(f);
    for want in [first_invite, invite, ringing, cancel, terminated] {
        assert!(fr.contains(&want), "FM011 cites {fr:?}, not frame {want}");
    }
    assert_eq!(f["evidence"]["ringing_frame"], ringing);
    assert_eq!(f["evidence"]["end_frame"], cancel);
    let t = |frame: u64| rows.iter().find(|r| r.0 == frame).unwrap().1;
    let rang = t(cancel) - t(ringing);
    let seen = f["evidence"]["ring_seconds"].as_f64().unwrap();
    assert!(
        (seen - rang).abs() < 0.002,
        "ring time {seen} vs tshark {rang}"
    );
    let m = message(f);
    for part in [
        format!("rang (180 at frame {ringing}) for {rang:.1} s"),
        format!("XCC cancelled it (frame {cancel}), final 487 (frame {terminated})"),
        "nobody answered".to_string(),
        "not a routing failure".to_string(),
        "voicemail".to_string(),
        "ring timeout".to_string(),
    ] {
        assert!(m.contains(&part), "FM011 message lacks {part:?}: {m}");
    }
    let out = sipdiag(&[
        "analyze",
        "--fail-on",
        "warning",
        testdata(fx).to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
}

/// The second leg got 183 with early media and no 180 (a network announcement, as for a
/// mobile that is switched off), then XCC cancelled it: FM011 still (not a routing
/// failure), but it does not say that the device rang; it names the early media (from the
/// PBX's second-leg media port, 40010) to listen to, and the time from the 183 to the
/// CANCEL as tshark times them.
#[test]
fn second_leg_with_early_media_and_no_ringing_may_not_have_rung() {
    let fx = "followme/fm011-second-leg-early-media.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM011"], "{}", v["findings"]);
    assert_eq!(code, 0);
    let f = finding(&v, "FM011");
    let rows = oracle(fx);
    let progress = oracle_frame(&rows, "183", "1 INVITE", 0);
    let cancel = oracle_frame(&rows, "CANCEL", "1 CANCEL", 0);
    assert!(
        rows.iter().all(|r| r.2 != "180" || r.0 < 4),
        "no 180 on leg 2"
    );
    let e = &f["evidence"];
    assert_eq!(e["ringing_status"], 183);
    assert_eq!(e["ringing_frame"], progress);
    assert_eq!(e["end_frame"], cancel);
    assert_eq!(e["early_media"], "127.0.0.10:40010");
    let t = |frame: u64| rows.iter().find(|r| r.0 == frame).unwrap().1;
    let waited = e["ring_seconds"].as_f64().unwrap();
    assert!(
        (waited - (t(cancel) - t(progress))).abs() < 0.002,
        "{waited}"
    );
    let title = f["title"].as_str().unwrap();
    assert!(title.ends_with("after 183 Session Progress"), "{title}");
    assert!(!title.contains("rang"), "{title}");
    let m = message(f);
    for part in [
        format!(
            "got 183 Session Progress (frame {progress}), with early media from 127.0.0.10:40010"
        ),
        "no 180 Ringing".to_string(),
        "a 183 does not say that the device rang".to_string(),
        "switched off".to_string(),
        "ring timeout".to_string(),
    ] {
        assert!(m.contains(&part), "FM011 message lacks {part:?}: {m}");
    }
    assert!(!m.contains("the PBX reached the device"), "{m}");
}

/// A second leg answered 500 without ringing is a real failure: FM009 keeps it, FM011
/// stays silent.
#[test]
fn second_leg_500_without_ringing_stays_fm009() {
    let fx = "followme/fm009-second-leg-500.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM009"], "{}", v["findings"]);
    assert_eq!(code, 1);
    let rows = oracle(fx);
    assert!(
        !rows.iter().any(|r| r.2 == "180" && r.0 > 3),
        "the second leg must not ring in this fixture"
    );
    let invite = oracle_frame(&rows, "INVITE", "1 INVITE", 1);
    let failed = oracle_frame(&rows, "500", "1 INVITE", 0);
    let f = finding(&v, "FM009");
    assert_eq!(f["title"], "Second leg failed");
    let fr = frames(f);
    assert!(fr.contains(&invite) && fr.contains(&failed), "{fr:?}");
    let m = message(f);
    assert!(
        m.contains(&format!(
            "({}) was answered 500 Server Internal Error (frame {failed})",
            format_args!("frame {invite}")
        )),
        "{m}"
    );
    assert!(m.contains("routing"), "{m}");
}

/// FM008 tells the three authentication stories apart: a challenge answered and then 403
/// (credentials fine, caller number refused), a challenge never answered (credentials
/// missing), and a plain 403 (caller number refused).
#[test]
fn fm008_distinguishes_credentials_from_caller_number() {
    let fx = "followme/fm008-second-leg-407-retry-403.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM008"], "{}", v["findings"]);
    assert_eq!(code, 1);
    let rows = oracle(fx);
    let invite = oracle_frame(&rows, "INVITE", "1 INVITE", 1);
    let challenge = oracle_frame(&rows, "407", "1 INVITE", 0);
    let retry = oracle_frame(&rows, "INVITE", "2 INVITE", 0);
    let refused = oracle_frame(&rows, "403", "2 INVITE", 0);
    let f = finding(&v, "FM008");
    assert_eq!(f["evidence"]["refusal"], "clip-after-auth");
    assert_eq!(f["evidence"]["retried_with_credentials"], true);
    let fr = frames(f);
    for want in [invite, challenge, retry, refused] {
        assert!(fr.contains(&want), "FM008 cites {fr:?}, not frame {want}");
    }
    let m = message(f);
    for part in [
        format!(
            "(frame {invite}) was answered 407 Proxy Authentication Required (frame {challenge})"
        ),
        format!("answered the challenge with credentials (frame {retry})"),
        "credentials were accepted".to_string(),
        format!("answered 403 Forbidden (frame {refused})"),
        "XccLineNumberAsClipSecondLeg = True".to_string(),
    ] {
        assert!(m.contains(&part), "FM008 message lacks {part:?}: {m}");
    }
    assert!(!m.contains("password"), "{m}");

    let fx = "followme/fm008-second-leg-407-noretry.pcap";
    let (v, _) = analyze(fx);
    assert_eq!(ids(&v), ["FM008"]);
    let f = finding(&v, "FM008");
    assert_eq!(f["evidence"]["refusal"], "credentials-missing");
    assert_eq!(f["evidence"]["retried_with_credentials"], false);
    let rows = oracle(fx);
    let challenge = oracle_frame(&rows, "407", "1 INVITE", 0);
    let m = message(f);
    assert!(
        m.contains(&format!("407 Proxy Authentication Required (frame {challenge}) and XCC never retried with credentials")),
        "{m}"
    );
    assert!(m.contains("user name and password"), "{m}");
    assert!(!m.contains("XccLineNumberAsClip"), "{m}");

    let (v, _) = analyze("followme/fm008-second-leg-403.pcap");
    let f = finding(&v, "FM008");
    assert_eq!(f["evidence"]["refusal"], "clip");
    assert!(message(f).contains("XccLineNumberAsClipSecondLeg = True"));
}

/// 415 Unsupported Media Type to a multipart INVITE is about the body type: FM009 quotes
/// the request's Content-Type and the answer's Accept; FM007 (codecs) stays silent.
#[test]
fn second_leg_415_is_a_body_type_rejection() {
    let fx = "followme/fm009-second-leg-415.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM009"], "{}", v["findings"]);
    assert_eq!(code, 1);
    let rows = oracle(fx);
    let invite = oracle_frame(&rows, "INVITE", "1 INVITE", 1);
    let rejected = oracle_frame(&rows, "415", "1 INVITE", 0);
    let f = finding(&v, "FM009");
    assert_eq!(f["title"], "PBX refused the second leg's body type");
    assert_eq!(f["evidence"]["accept"], "application/sdp");
    assert_eq!(
        f["evidence"]["content_type"],
        "multipart/mixed;boundary=unique-boundary-1"
    );
    let fr = frames(f);
    assert!(fr.contains(&invite) && fr.contains(&rejected), "{fr:?}");
    let m = message(f);
    for part in [
        format!("answered 415 Unsupported Media Type (frame {rejected})"),
        "not its codecs".to_string(),
        format!("Content-Type: multipart/mixed;boundary=unique-boundary-1 (frame {invite})"),
        format!("Accept: application/sdp (frame {rejected})"),
    ] {
        assert!(m.contains(&part), "FM009 message lacks {part:?}: {m}");
    }
    assert!(!m.contains("codec list"), "{m}");
    assert!(!m.contains("routing"), "{m}");
}

/// tshark's fragmented SIP messages (`sip-fragments.sh`), grouped by (capture, src, dst):
/// (messages, largest size, its kind, its fragment frames).
type FragmentFlows =
    std::collections::BTreeMap<(String, String, String), (u64, u64, String, Vec<u64>)>;

fn fragment_oracle(path: &std::path::Path) -> FragmentFlows {
    let mut flows = FragmentFlows::new();
    for r in tsv(path, "path\t") {
        let bytes: u64 = r[3].parse().unwrap();
        let frags: Vec<u64> = r[2].split(',').map(|f| f.parse().unwrap()).collect();
        let e = flows
            .entry((r[0].clone(), r[5].clone(), r[6].clone()))
            .or_insert((0, 0, String::new(), Vec::new()));
        e.0 += 1;
        if bytes > e.1 {
            *e = (e.0, bytes, r[4].clone(), frags);
        }
    }
    flows
}

/// CAP005 findings of one analysed capture, keyed like [`fragment_oracle`].
fn cap005_flows(name: &str, v: &Value) -> FragmentFlows {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "CAP005")
        .map(|f| {
            let e = &f["evidence"];
            let frags: Vec<u64> = e["fragment_frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            assert_eq!(e["fragments"], frags.len());
            // The finding cites the largest message's fragments.
            for fr in &frags {
                assert!(frames(f).contains(fr), "{name}: {f}");
            }
            (
                (
                    name.to_string(),
                    e["src"].as_str().unwrap().to_string(),
                    e["dst"].as_str().unwrap().to_string(),
                ),
                (
                    e["messages"].as_u64().unwrap(),
                    e["largest_bytes"].as_u64().unwrap(),
                    e["largest_kind"].as_str().unwrap().to_string(),
                    frags,
                ),
            )
        })
        .collect()
}

/// A SIP message over UDP rebuilt from IP fragments (IPv4 and IPv6 fixtures) gets CAP005
/// with tshark's size, kind and fragment frames, and the capture is no longer "clean".
#[test]
fn fragmented_sip_is_cap005_on_the_fixtures() {
    let want = fragment_oracle(&testdata("reader/sip-fragments.tsv"));
    assert_eq!(want.len(), 2, "ipfrag-v4 and ipfrag-v6");
    for ((name, src, dst), (messages, bytes, kind, frags)) in &want {
        let path = testdata(&format!("reader/{name}"));
        let (v, code) = analyze_path(&path, &[]);
        assert_eq!(ids(&v), ["CAP005"], "{name}: {}", v["findings"]);
        assert_eq!(code, 0, "{name}: a warning");
        let got = cap005_flows(name, &v);
        assert_eq!(
            got.get(&(name.clone(), src.clone(), dst.clone())),
            Some(&(*messages, *bytes, kind.clone(), frags.clone())),
            "{name}: {got:?}"
        );
        let f = finding(&v, "CAP005");
        assert_eq!(f["severity"], "warning");
        let m = message(f);
        let cited = frags
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        for part in [
            format!("from {src} to {dst}"),
            format!(
                "the largest, {kind} of {bytes} bytes, came in {} fragments (frames {cited})",
                frags.len()
            ),
            "Firewalls".to_string(),
            "TCP".to_string(),
        ] {
            assert!(m.contains(&part), "{name}: CAP005 lacks {part:?}: {m}");
        }
        let kinds: Vec<&str> = v["captures"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["sip-fragmented"], "{name}");
        let table = stdout(&sipdiag(&["analyze", path.to_str().unwrap()]));
        assert!(
            table.contains("(with anomalies)") && !table.contains("(clean)"),
            "{name}: {table}"
        );
    }
    // Unfragmented UDP: no CAP005, still clean.
    let p = testdata("reader/udp-call.pcap");
    let (v, _) = analyze_path(&p, &[]);
    assert!(
        !ids(&v).contains(&"CAP005".to_string()),
        "{}",
        v["findings"]
    );
    let table = stdout(&sipdiag(&["analyze", p.to_str().unwrap()]));
    assert!(table.contains("(clean)"), "{table}");
}

/// On the public corpus CAP005 names exactly the flows where tshark reassembles SIP from
/// IP fragments (gprshome's REGISTERs, goffinet's and sngrep's INVITEs), with the same
/// counts, sizes and frames, and fires nowhere else.
#[test]
fn fragmented_sip_is_cap005_on_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let want = fragment_oracle(&testdata("oracle/sip-fragments.tsv"));
    assert!(want.keys().any(|k| k.0 == "gprshome/sip.pcap"));
    let rows = tsv(&testdata("oracle/sip-counts.tsv"), "path\t");
    let mut got = FragmentFlows::new();
    // sipdiag reads no NetMon file (tests/followme.rs checks it exits 2).
    let unreadable = ["sipnab/c07-sip-r2.cap"];
    for r in rows
        .iter()
        .filter(|r| r[1] != "-1" && r[1] != "0" && !unreadable.contains(&r[0].as_str()))
    {
        let (v, _) = analyze_path(&corpus.join(&r[0]), &[]);
        got.extend(cap005_flows(&r[0], &v));
    }
    assert_eq!(got, want);
}

/// A capture cut after the forwarded INVITE (and XCC's 100) still diagnoses the number
/// XCC cannot read: FM002 at warning level, saying the response is not in the capture,
/// beside CAP001's damage finding.
#[test]
fn truncated_capture_still_reports_the_unreadable_number() {
    let fx = "followme/cap-followme-truncated.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM002", "CAP001"], "{}", v["findings"]);
    assert_eq!(code, 0, "both are warnings");
    let rows = oracle(fx);
    let invite = oracle_frame(&rows, "INVITE", "1 INVITE", 0);
    assert!(
        !rows.iter().any(|r| r.2 == "503"),
        "the 503 is cut off the file"
    );
    let f = finding(&v, "FM002");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["frames"][0], invite);
    assert_eq!(f["evidence"]["response_in_capture"], false);
    assert_eq!(f["evidence"]["damage"]["kind"], "truncated");
    // Schema 2: the finding refers to the report's one shared suggestion by index.
    let s = &v["suggestions"][f["suggestion"].as_u64().unwrap() as usize];
    assert_eq!(s["observed"], serde_json::json!(["004930123456"]));
    assert_eq!(s["understood_count"], 1);
    let m = message(f);
    for part in [
        format!("The forwarded INVITE (frame {invite})"),
        "Diversion number 004930123456".to_string(),
        "The response is not in the capture".to_string(),
        "+4930123456".to_string(),
    ] {
        assert!(m.contains(&part), "FM002 lacks {part:?}: {m}");
    }
    // The whole capture with XCC's 503 is FM002 at error level, without that caveat.
    let (v, _) = analyze("followme/fm002-intl00.pcap");
    let f = finding(&v, "FM002");
    assert_eq!(f["severity"], "error");
    assert!(!message(f).contains("not in the capture"));
}

/// A snaplen-cut capture is whole but its packets are cut: CAP001 advises `-s 0` for the
/// snapshot length, not the text for a file that ends early (which truncated.pcap keeps).
#[test]
fn snaplen_cut_gets_snapshot_length_advice() {
    let (v, _) = analyze_path(&testdata("reader/snaplen-cut.pcap"), &[]);
    let f = finding(&v, "CAP001");
    assert_eq!(f["title"], "SIP messages cut short by the snaplen");
    assert_eq!(frames(f), (1..=7).collect::<Vec<u64>>());
    let m = message(f);
    assert!(
        m.contains("snapshot length") && m.contains("tcpdump -s 0"),
        "{m}"
    );
    assert!(!m.contains("what follows is missing"), "{m}");
    assert!(!m.contains("stop it cleanly"), "{m}");
    let (v, _) = analyze_path(&testdata("reader/truncated.pcap"), &[]);
    let m = message(finding(&v, "CAP001"));
    assert!(m.contains("what follows is missing"), "{m}");
    assert!(!m.contains("snapshot length"), "{m}");
}

/// A healthy Follow-Me call whose second-leg INVITE (a long codec list) exceeded a
/// 1500-byte MTU: CAP005 is the only finding, with tshark's size and fragment frames, and
/// the second leg is still linked and answered (its INVITE numbered by its last fragment).
#[test]
fn fragmented_follow_me_call_is_cap005_only() {
    let want = fragment_oracle(&testdata("followme/sip-fragments.tsv"));
    assert_eq!(want.len(), 1);
    let ((name, src, dst), (messages, bytes, kind, frags)) = want.iter().next().unwrap();
    let (v, code) = analyze(&format!("followme/{name}"));
    assert_eq!(ids(&v), ["CAP005"], "{}", v["findings"]);
    assert_eq!(code, 0);
    let got = cap005_flows(name, &v);
    assert_eq!(
        got.get(&(name.clone(), src.clone(), dst.clone())),
        Some(&(*messages, *bytes, kind.clone(), frags.clone()))
    );
    assert_eq!(kind, "INVITE");
    assert!(*bytes > 1472, "larger than a 1500-byte MTU's UDP payload");
    let m = message(finding(&v, "CAP005"));
    assert!(m.contains("fewer codecs"), "{m}");
    let rows = oracle(&format!("followme/{name}"));
    let second_invite = oracle_frame(&rows, "INVITE", "1 INVITE", 1);
    assert_eq!(Some(&second_invite), frags.last());
    let calls = v["calls"].as_array().unwrap();
    let second = calls
        .iter()
        .find(|c| c["leg"] == "second")
        .expect("second leg");
    assert_eq!(
        second["linked_call_ids"].as_array().unwrap().len(),
        1,
        "{second}"
    );
}

/// The AnyDevice rang and the PBX's no-answer timer ended the second leg with 480 (no
/// CANCEL): also FM011, timed from tshark's 180 to the 480.
#[test]
fn second_leg_ring_timeout_is_fm011() {
    let fx = "followme/fm011-second-leg-ring-timeout.pcap";
    let (v, code) = analyze(fx);
    assert_eq!(ids(&v), ["FM011"], "{}", v["findings"]);
    assert_eq!(code, 0);
    let rows = oracle(fx);
    let ringing = oracle_frame(&rows, "180", "1 INVITE", 1);
    let timeout = oracle_frame(&rows, "480", "1 INVITE", 0);
    assert!(!rows.iter().any(|r| r.2 == "CANCEL"));
    let f = finding(&v, "FM011");
    assert_eq!(f["evidence"]["ringing_frame"], ringing);
    assert_eq!(f["evidence"]["end_frame"], timeout);
    let t = |frame: u64| rows.iter().find(|r| r.0 == frame).unwrap().1;
    let rang = t(timeout) - t(ringing);
    let seen = f["evidence"]["ring_seconds"].as_f64().unwrap();
    assert!(
        (seen - rang).abs() < 0.002,
        "ring time {seen} vs tshark {rang}"
    );
    let m = message(f);
    assert!(
        m.contains(&format!(
            "for {rang:.1} s and nobody answered: the far end ended it with 480 Temporarily Unavailable (frame {timeout})"
        )),
        "{m}"
    );
}
