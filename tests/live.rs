//! `sipdiag watch -i IFACE [BPF]` (cargo feature `live`): a Follow-Me call sent over a
//! real interface while sipdiag captures it through libpcap is judged as `analyze` judges
//! the recorded fixture.
//!
//! The interface is the loopback of a private network namespace (`ip netns`), so nothing
//! else is on it; the SIP messages are the payloads of `testdata/followme/fm002-intl00.pcap`
//! (sipp's, see testdata/followme/README.md), sent from and to their recorded addresses by
//! a small UDP sender. Needs root (namespaces, capture): `.ci/run` runs it as root with
//! `--features live`.
#![cfg(feature = "live")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The UDP datagrams of an Ethernet/IPv4 pcap: (src, dst, payload).
fn datagrams(path: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let f = &data[at + 16..at + 16 + len];
        at += 16 + len;
        let ip = &f[14..];
        assert_eq!(ip[0] >> 4, 4);
        let ihl = usize::from(ip[0] & 15) * 4;
        assert_eq!(ip[9], 17, "UDP");
        let udp = &ip[ihl..];
        let port = |o: usize| u16::from_be_bytes([udp[o], udp[o + 1]]);
        let addr = |o: usize| format!("{}.{}.{}.{}", ip[o], ip[o + 1], ip[o + 2], ip[o + 3]);
        out.push((
            format!("{}:{}", addr(12), port(0)),
            format!("{}:{}", addr(16), port(2)),
            udp[8..].to_vec(),
        ));
    }
    out
}

#[test]
fn a_call_captured_live_is_judged() {
    let ns = format!("sipdiag-live-{}", std::process::id());
    let ip = |args: &[&str]| {
        let ok = Command::new("ip")
            .args(args)
            .status()
            .expect("ip (iproute2)");
        assert!(ok.success(), "ip {args:?}: needs root");
    };
    ip(&["netns", "add", &ns]);
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let _cleanup = Cleanup(ns.clone());
    ip(&["-n", &ns, "link", "set", "lo", "up"]);

    let mut watch = Command::new("ip")
        .args(["netns", "exec", &ns, env!("CARGO_BIN_EXE_sipdiag")])
        .args(["watch", "-i", "lo", "--until-idle", "3", "--format", "json"])
        .args(["udp", "port", "5060"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sipdiag");
    // Capturing once it says so, as tcpdump does.
    let mut err = BufReader::new(watch.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("sipdiag: listening on lo"), "{line}");

    let fixture = common::testdata("followme/fm002-intl00.pcap");
    let mut script = String::from("import socket, time\nsocks = {}\n");
    for (src, dst, payload) in datagrams(&fixture) {
        let (sh, sp) = src.rsplit_once(':').unwrap();
        let (dh, dp) = dst.rsplit_once(':').unwrap();
        script.push_str(&format!(
            "s = socks.get('{src}')\nif s is None:\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.bind(('{sh}', {sp}))\n    socks['{src}'] = s\ns.sendto(bytes.fromhex('{}'), ('{dh}', {dp}))\ntime.sleep(0.05)\n",
            payload.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
    }
    let sent = Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c", &script])
        .status()
        .expect("python3");
    assert!(sent.success());

    let out = watch.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let findings: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["type"] == "call")
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| (f["call_id"].as_str().unwrap(), f["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [("8e97d72623570042419af722@127.0.0.10", "FM002")],
        "{text}"
    );
    let end = records.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["captures"][0]["path"], "lo (live)");
    assert_eq!(end["captures"][0]["sip_messages"], 4, "{end}");
    assert_eq!(out.status.code(), Some(1), "{text}");
}
