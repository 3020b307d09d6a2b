//! Hostile-input benchmark: `cargo bench --bench floods`.
//!
//! Generates (once; cached under `target/bench-data/`) nine captures of the same size
//! (`SIPDIAG_FLOOD_MB`, default 200): a normal one (SIP calls with their RTP) and four
//! floods that fill sipdiag's bounded tables — half-open TCP connections to 5060 each
//! carrying the start of an INVITE, first IPv4 fragments that never complete, single
//! RTP packets each on a new UDP flow, and INVITEs (with SDP) answered only by 100 Trying,
//! a new Call-ID each — calls held in progress (under the cap) while the capture's
//! clock moves on for days, and one Call-ID carrying the whole capture (new INVITE
//! transactions, made-up methods, BYEs and their 200s, retransmissions, 180s), and
//! answered calls that never end all announcing the same media address, and whole calls
//! every packet of which is stamped alike (a clock that stands still). Then runs
//! `sipdiag analyze` on each, `calls` and `media` on the normal capture, the INVITE
//! flood and the one Call-ID, and `media` on the clock that stands still (best of `SIPDIAG_BENCH_RUNS`, default 1), and
//! prints wall time and peak RSS (GNU time's `%M`, the kernel's ru_maxrss) beside the
//! normal capture's. Target (README "Limits"): every flood within 3× the normal capture's
//! wall time, memory bounded by the caps.
//!
//! `SIPDIAG_FLOODS=normal,held-calls` runs only the captures named (the normal one is
//! always run first, as the ratios are taken against it).
//!
//! Std only; the packets are written by `tests/limits/pcap.rs`, the writer the limit
//! tests use.

#[path = "../tests/limits/pcap.rs"]
mod pcap;

#[path = "common/mod.rs"]
mod common;
use common::target_dir;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pcap::{ACK, Addr, PSH, Pcap, SYN};

/// Bump when the generated traffic changes, so cached files are rebuilt.
const VERSION: u32 = 2;

type Writer = Pcap<BufWriter<File>>;
/// Writes a capture of about the given number of bytes.
type Generator = fn(&mut Writer, u64) -> std::io::Result<()>;

fn main() {
    let mb: u64 = env_num("SIPDIAG_FLOOD_MB", 200);
    let runs = env_num("SIPDIAG_BENCH_RUNS", 1) as usize;
    let dir = target_dir().join("bench-data");
    fs::create_dir_all(&dir).expect("create target/bench-data");
    let sipdiag = PathBuf::from(env!("CARGO_BIN_EXE_sipdiag"));
    let bytes = mb << 20;
    let kinds: [(&str, Generator); 9] = [
        ("normal", normal),
        ("tcp-connections", tcp_flood),
        ("ip-fragments", fragment_flood),
        ("media-flows", flow_flood),
        ("invites", invite_flood),
        ("held-calls", held_calls),
        ("one-call", one_call),
        ("shared-address", shared_address),
        ("frozen-clock", frozen_clock),
    ];
    let only: Option<Vec<String>> = std::env::var("SIPDIAG_FLOODS")
        .ok()
        .map(|v| v.split(',').map(|k| k.trim().to_string()).collect());
    let kinds = kinds.into_iter().filter(|(name, _)| {
        *name == "normal" || only.as_ref().is_none_or(|o| o.iter().any(|k| k == name))
    });
    println!("sipdiag hostile-input benchmark: {mb} MB per capture, best of {runs} run(s)");
    println!("binary: {}", sipdiag.display());
    println!();
    println!(
        "{:<16} {:<8} {:>8} {:>10} {:>8} {:>12} {:>8}",
        "capture", "command", "MB", "frames", "wall s", "peak RSS MiB", "× normal"
    );
    // The normal capture's wall time per command.
    let mut normal_wall: Vec<(&str, Duration)> = Vec::new();
    for (name, gen_fn) in kinds {
        let path = dir.join(format!("flood-v{VERSION}-{name}-{mb}mb.pcap"));
        if !path.exists() {
            let tmp = path.with_extension("tmp");
            let mut w = Pcap::new(BufWriter::new(File::create(&tmp).unwrap())).unwrap();
            gen_fn(&mut w, bytes).unwrap();
            w.into_inner().flush().unwrap();
            fs::rename(&tmp, &path).unwrap();
        }
        let size = fs::metadata(&path).unwrap().len();
        let frames = count_frames(&path);
        let commands: &[&str] = match name {
            "normal" | "invites" | "one-call" => &["analyze", "calls", "media"],
            "frozen-clock" => &["analyze", "media"],
            _ => &["analyze"],
        };
        for &command in commands {
            let mut best: Option<(Duration, Option<u64>)> = None;
            for _ in 0..runs {
                let m = run(&sipdiag, command, &path);
                best = Some(match best {
                    Some(b) if b.0 <= m.0 => b,
                    _ => m,
                });
            }
            let (wall, rss) = best.unwrap();
            let ratio = match normal_wall.iter().find(|(c, _)| *c == command) {
                None => {
                    normal_wall.push((command, wall));
                    "1.0".to_string()
                }
                Some((_, n)) => format!("{:.1}", wall.as_secs_f64() / n.as_secs_f64()),
            };
            println!(
                "{:<16} {:<8} {:>8.1} {:>10} {:>8.2} {:>12} {:>8}",
                name,
                command,
                size as f64 / 1e6,
                frames,
                wall.as_secs_f64(),
                rss.map_or("n/a".to_string(), |k| format!("{:.0}", k as f64 / 1024.0)),
                ratio
            );
        }
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Runs `sipdiag COMMAND` once (JSON out, discarded): wall time and peak RSS in KiB (when
/// GNU time is there).
fn run(sipdiag: &Path, command: &str, capture: &Path) -> (Duration, Option<u64>) {
    let args: &[&str] = match command {
        "analyze" => &["analyze", "--format", "json", "--fail-on", "none"],
        other => &[other, "--format", "json"],
    };
    let time = Path::new("/usr/bin/time");
    let rss_file = capture.with_extension("rss");
    let start = Instant::now();
    let status = if time.exists() {
        Command::new(time)
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(sipdiag)
            .args(args)
            .arg(capture)
            .stdout(Stdio::null())
            .status()
    } else {
        Command::new(sipdiag)
            .args(args)
            .arg(capture)
            .stdout(Stdio::null())
            .status()
    }
    .expect("run sipdiag");
    let wall = start.elapsed();
    assert!(
        status.success(),
        "sipdiag {command} {}: {status}",
        capture.display()
    );
    let rss = fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.trim().lines().last()?.trim().parse().ok());
    let _ = fs::remove_file(&rss_file);
    (wall, rss)
}

/// Classic pcap records in a file.
fn count_frames(path: &Path) -> u64 {
    let data = fs::read(path).unwrap();
    let (mut at, mut n) = (24usize, 0u64);
    while at + 16 <= data.len() {
        let len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
        n += 1;
    }
    n
}

/// Writes the set-up of call `id` at `t`: INVITE from the caller, 200 OK, ACK, each end
/// with its signalling and media address. Returns the bytes written.
fn set_up(
    w: &mut Writer,
    t: u64,
    id: &str,
    (a, am): (Addr, Addr),
    (b, bm): (Addr, Addr),
) -> std::io::Result<u64> {
    let msgs = [
        pcap::invite(id, a, b, am),
        pcap::ok(id, a, b, bm),
        pcap::in_dialog("ACK", id, a, b),
    ];
    let mut size = 0;
    for (i, m) in msgs.iter().enumerate() {
        let (s, d) = if i == 1 { (b, a) } else { (a, b) };
        w.udp(t, s, d, m)?;
        size += 16 + 42 + m.len() as u64;
    }
    Ok(size)
}

/// SIP calls one after another, each with 50 RTP packets per direction.
fn normal(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let mut t = 1_000_000u64;
    let mut size = 24u64;
    let mut n = 0u32;
    while size < bytes {
        n += 1;
        let host = [10, 1, (n >> 8) as u8, n as u8];
        let peer = [10, 2, (n >> 8) as u8, n as u8];
        let (a, b): (Addr, Addr) = ((host, 5060), (peer, 5060));
        let (am, bm): (Addr, Addr) = ((host, 20000), (peer, 30000));
        let id = format!("call-{n}");
        size += set_up(w, t, &id, (a, am), (b, bm))?;
        for i in 0..50u16 {
            t += 20_000;
            w.udp(t, am, bm, &pcap::rtp(i, u32::from(i) * 160, n))?;
            w.udp(t + 1, bm, am, &pcap::rtp(i, u32::from(i) * 160, !n))?;
            size += 2 * (16 + 42 + 172);
        }
        let bye = pcap::in_dialog("BYE", &id, a, b);
        let ok = pcap::bye_ok(&id, a, b);
        w.udp(t + 2, a, b, &bye)?;
        w.udp(t + 3, b, a, &ok)?;
        size += 2 * (16 + 42) + (bye.len() + ok.len()) as u64;
        t += 1000;
    }
    Ok(())
}

/// Half-open TCP connections to 5060, each a SYN and the start of an INVITE that never
/// ends, from a new address and port each.
fn tcp_flood(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let head = b"INVITE sip:200@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/TCP 10.3.0.1:40000;branch=z9hG4bK-x\r\nFrom: <sip:100@10.3.0.1>;tag=1\r\nTo: <sip:200@10.0.0.2>\r\nCall-ID: flood\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:100@10.3.0.1:40000>\r\nContent-Type: application/sdp\r\n";
    let per = 2 * (16 + 54) + head.len() as u64;
    let dst: Addr = ([10, 0, 0, 2], 5060);
    let mut t = 1_000_000u64;
    for n in 0..bytes / per {
        let src: Addr = (
            [10, 3, (n >> 14) as u8, (n >> 6) as u8],
            1024 + (n & 63) as u16,
        );
        w.tcp(t, src, dst, 1000, SYN, b"")?;
        w.tcp(t + 1, src, dst, 1001, ACK | PSH, head)?;
        t += 50;
    }
    Ok(())
}

/// First IPv4 fragments (1 000 bytes each) that never complete, a new datagram each.
fn fragment_flood(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let data = vec![0x55u8; 1000];
    let per = 16 + 34 + data.len() as u64;
    let mut t = 1_000_000u64;
    for n in 0..bytes / per {
        let src = [10, 4, (n >> 24) as u8, (n >> 16) as u8];
        w.fragment(t, src, [10, 0, 0, 2], pcap::UDP, n as u16, 0, true, &data)?;
        t += 10;
    }
    Ok(())
}

/// Single RTP packets, each on a new UDP flow.
fn flow_flood(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let per = 16 + 42 + 172;
    let dst: Addr = ([10, 0, 0, 2], 30000);
    let mut t = 1_000_000u64;
    for n in 0..bytes / per {
        let src: Addr = (
            [10, 5, (n >> 14) as u8, (n >> 6) as u8],
            20000 + (n & 63) as u16 * 2,
        );
        w.udp(t, src, dst, &pcap::rtp(1, 0, n as u32))?;
        t += 20;
    }
    Ok(())
}

/// Calls held in progress: 19,000 answered calls (under `--max-calls`) with one RTP
/// packet each way, that never end; then, for the rest of the capture, a datagram between
/// two other hosts every 5 s of capture time, and every 12 hours a message in each call's
/// dialog (an INFO: a call without a message for a day is let go). Each flow of a call in
/// progress stays held however quiet (a call on hold): the capture's clock moves on while
/// 38,000 flows are held.
fn held_calls(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    const CALLS: u32 = 19_000;
    let pbx: Addr = ([10, 1, 0, 1], 5060);
    let mut t = 1_000_000u64;
    let mut size = 24u64;
    let ends = |n: u32| -> (Addr, Addr, Addr) {
        let host = [10, 2, (n >> 8) as u8, n as u8];
        let peer = [10, 4, (n >> 8) as u8, n as u8];
        ((host, 5060), (host, 20000), (peer, 30000))
    };
    for n in 0..CALLS {
        let (a, am, bm) = ends(n);
        size += set_up(w, t, &format!("held-{n}"), (a, am), (pbx, bm))?;
        w.udp(t + 1, am, bm, &pcap::rtp(1, 160, n))?;
        w.udp(t + 2, bm, am, &pcap::rtp(1, 160, !n))?;
        size += 2 * (16 + 42 + 172);
        t += 1000;
    }
    let (x, y): (Addr, Addr) = (([10, 3, 0, 1], 9), ([10, 3, 0, 2], 9));
    const TICK_US: u64 = 5_000_000;
    const TICKS_PER_HALF_DAY: u64 = 12 * 3600 / 5;
    let mut tick = 0u64;
    while size < bytes {
        t += TICK_US;
        tick += 1;
        w.udp(t, x, y, b"tick")?;
        size += 16 + 42 + 4;
        if tick.is_multiple_of(TICKS_PER_HALF_DAY) {
            for n in 0..CALLS {
                let (a, _, _) = ends(n);
                let info = pcap::in_dialog("INFO", &format!("held-{n}"), a, pbx);
                w.udp(t + 1 + u64::from(n), a, pbx, &info)?;
                size += 16 + 42 + info.len() as u64;
            }
        }
    }
    Ok(())
}

/// One Call-ID carrying the whole capture: in turn a new INVITE transaction (a new CSeq),
/// a request of a new made-up method, a BYE with a new CSeq and its 200, the first
/// INVITE again (a retransmission) and a 180 to it — what a call could otherwise
/// accumulate, and look through, with every message.
fn one_call(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let (a, b): (Addr, Addr) = (([10, 7, 0, 1], 5060), ([10, 7, 0, 2], 5060));
    let request = |method: &str, cseq: u32, branch: u32| {
        format!(
            "{method} sip:200@10.7.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.7.0.1:5060;branch=z9hG4bK-{branch}\r\n\
             From: <sip:100@10.7.0.1>;tag=a\r\nTo: <sip:200@10.7.0.2>;tag=b\r\nCall-ID: one-call\r\n\
             CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let response = |status: &str, method: &str, cseq: u32, branch: u32| {
        format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 10.7.0.1:5060;branch=z9hG4bK-{branch}\r\n\
             From: <sip:100@10.7.0.1>;tag=a\r\nTo: <sip:200@10.7.0.2>;tag=b\r\nCall-ID: one-call\r\n\
             CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let mut t = 1_000_000u64;
    let mut size = 24u64;
    let mut n = 1u32;
    while size < bytes {
        let cseq = 2 * n;
        let packets = [
            (a, b, request("INVITE", cseq, n)),
            (a, b, request(&format!("X-{n}"), cseq + 1, n)),
            (a, b, request("BYE", cseq + 1, n)),
            (b, a, response("200 OK", "BYE", cseq + 1, n)),
            (a, b, request("INVITE", 2, 1)),
            (b, a, response("180 Ringing", "INVITE", 2, 1)),
        ];
        for (src, dst, p) in packets {
            w.udp(t, src, dst, &p)?;
            size += 16 + 42 + p.len() as u64;
            t += 100;
        }
        n = n.wrapping_add(1);
    }
    Ok(())
}

/// Answered calls that never end (no ACK, no BYE), a new Call-ID and caller each, all
/// announcing the same media addresses (a PBX giving every call one port): each call is
/// judged with the announcements made while it lasted, not with every call's.
fn shared_address(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let callee: Addr = ([10, 8, 0, 2], 5060);
    let (am, bm): (Addr, Addr) = (([10, 8, 0, 1], 1024), ([10, 8, 0, 2], 1024));
    let mut t = 1_000_000u64;
    let (mut size, mut n) = (24u64, 0u32);
    while size < bytes {
        let caller: Addr = ([10, 9, (n >> 8) as u8, n as u8], 5060);
        let id = format!("shared-{n}");
        let invite = pcap::invite(&id, caller, callee, am);
        let ok = pcap::ok(&id, caller, callee, bm);
        w.udp(t, caller, callee, &invite)?;
        w.udp(t + 100, callee, caller, &ok)?;
        size += 2 * (16 + 42) + (invite.len() + ok.len()) as u64;
        t += 10_000;
        n = n.wrapping_add(1);
    }
    Ok(())
}

/// Whole calls (INVITE and 200 with SDP, ACK, BYE and its 200), a new Call-ID each, on
/// one of 2,000 media addresses, every packet stamped alike (a capture whose clock stands
/// still: an export that lost its timestamps, a SIP log turned into a capture): what is
/// let go by capture time must go all the same.
fn frozen_clock(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    const T: u64 = 1_000_000;
    let (caller, callee): (Addr, Addr) = (([10, 11, 0, 1], 5060), ([10, 11, 0, 2], 5060));
    let (mut size, mut n) = (24u64, 0u32);
    while size < bytes {
        let id = format!("frozen-{n}");
        let am: Addr = (caller.0, 20000 + (n % 1000) as u16 * 2);
        let bm: Addr = (callee.0, 20000 + (n % 1000) as u16 * 2);
        size += set_up(w, T, &id, (caller, am), (callee, bm))?;
        let bye = pcap::in_dialog("BYE", &id, caller, callee);
        let ok = pcap::bye_ok(&id, caller, callee);
        w.udp(T, caller, callee, &bye)?;
        w.udp(T, callee, caller, &ok)?;
        size += 2 * (16 + 42) + (bye.len() + ok.len()) as u64;
        n = n.wrapping_add(1);
    }
    Ok(())
}

/// INVITEs offering audio, each answered by 100 Trying only, a new Call-ID and caller
/// address each: calls that never end.
fn invite_flood(w: &mut Writer, bytes: u64) -> std::io::Result<()> {
    let callee: Addr = ([10, 0, 0, 2], 5060);
    let mut t = 1_000_000u64;
    let (mut size, mut n) = (24u64, 0u32);
    while size < bytes {
        let caller: Addr = ([10, 6, (n >> 8) as u8, n as u8], 5060);
        let media: Addr = (caller.0, 20000 + (n % 5000) as u16 * 2);
        let id = format!("flood-{n}");
        let invite = pcap::invite(&id, caller, callee, media);
        let trying = pcap::response(&id, caller, callee, "100 Trying");
        w.udp(t, caller, callee, &invite)?;
        w.udp(t + 100, callee, caller, &trying)?;
        size += 2 * (16 + 42) + (invite.len() + trying.len()) as u64;
        t += 50;
        n = n.wrapping_add(1);
    }
    Ok(())
}
