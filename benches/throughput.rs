//! Throughput and memory benchmark: `cargo bench --bench throughput`.
//!
//! 1. Generates (once; cached under `target/bench-data/`, rebuilt when missing) RTP-heavy
//!    classic pcap files (Ethernet / IPv4 / UDP) of complete SIP calls
//!    (INVITE/100/180/200/ACK/BYE/200 with SDP) and their G.711 A-law RTP, calls written in
//!    batches of 100 that run concurrently.
//! 2. Measures, best of N runs (`SIPDIAG_BENCH_RUNS`, default 3; the runs of the rows that
//!    are compared alternate):
//!    - a bare streaming pcap-parser loop that decodes Ethernet/IPv4/UDP by hand: the
//!      ceiling any pcap-parser based reader can reach on this machine;
//!    - `sipdiag messages --format json` (and `sipdiag analyze` once it exists) as a child
//!      process: wall time and peak RSS;
//!    - `tshark -n -q -z sip,stat` for scale, when tshark is on PATH.
//! 3. Prints a table against the targets: `messages` >= 50 % of the bare loop's packets/s
//!    with peak RSS <= 64 MiB, `analyze` >= 35 % (on A and on the RTP-heavy C, each
//!    against the bare loop on the same capture in the same alternating runs), `analyze`
//!    within 2x the wall time of `messages` on A; and the peak RSS of `messages` and of
//!    `analyze` on the same 1,000 calls with 50 and with 500 RTP packets each, to show
//!    that memory does not follow RTP volume (`analyze` keeps every call, so its memory
//!    follows the number of calls).
//!
//! Std only: the pcap writer, the packet builder and the RSS measurement are in this file.

#[path = "common/mod.rs"]
mod common;
use common::target_dir;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pcap_parser::{PcapBlockOwned, PcapError};

/// Bump when the generated traffic changes, so cached files are rebuilt.
const GENERATOR_VERSION: u32 = 1;
/// The same for capture D (Follow-Me).
const FM_GENERATOR_VERSION: u32 = 2;
/// Calls written (and running) concurrently.
const BATCH: u32 = 100;
/// Peak RSS target for `sipdiag messages`, KiB.
const RSS_TARGET_KIB: u64 = 64 * 1024;
const MESSAGES_TARGET_PCT: f64 = 50.0;
const ANALYZE_TARGET_PCT: f64 = 35.0;
/// `analyze`'s wall time on A, at most this many times `messages`'.
const ANALYZE_VS_MESSAGES: f64 = 2.0;

fn main() {
    let runs = std::env::var("SIPDIAG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let data_dir = target_dir().join("bench-data");
    fs::create_dir_all(&data_dir).expect("create target/bench-data");
    let sipdiag = PathBuf::from(env!("CARGO_BIN_EXE_sipdiag"));
    let rss = RssProbe::detect();

    println!("sipdiag throughput benchmark (best of {runs} runs)");
    println!("binary: {}", sipdiag.display());
    println!("peak RSS measured with: {}", rss.describe());
    println!();

    let main_spec = Spec {
        calls: 10_000,
        rtp_per_call: 50,
        followme: false,
    };
    let low_spec = Spec {
        calls: 1_000,
        rtp_per_call: 50,
        followme: false,
    };
    let heavy_spec = Spec {
        calls: 1_000,
        rtp_per_call: 500,
        followme: false,
    };
    let fm_spec = Spec {
        calls: 10_000,
        rtp_per_call: 50,
        followme: true,
    };
    let main_cap = ensure_capture(&data_dir, main_spec);
    let low_cap = ensure_capture(&data_dir, low_spec);
    let heavy_cap = ensure_capture(&data_dir, heavy_spec);
    let fm_cap = ensure_capture(&data_dir, fm_spec);
    println!();

    let mut rows: Vec<Row> = Vec::new();

    // a–c. The bare loop, sipdiag messages and sipdiag analyze, measured in alternation
    // (one run of each per round) so that a slow spell of the machine hits all of them.
    let main_arg = main_cap.path.to_string_lossy().into_owned();
    let exe = sipdiag.to_string_lossy().into_owned();
    let mut notes = Vec::new();
    let analyze = analyze_args(&exe).map(|mut args| {
        args.push(main_arg.clone());
        args
    });
    if analyze.is_none() {
        notes.push("sipdiag analyze: not measured (the command does not exist yet)".to_string());
    }
    let analyze_refs: Vec<&str> = analyze.iter().flatten().map(String::as_str).collect();
    let mut bare_run = bare_run_of(&main_cap);
    let messages_args = ["messages", "--format", "json", main_arg.as_str()];
    let mut messages_run = child(&rss, &exe, &messages_args, &[0]);
    // Exit code 1 means "findings at or above --fail-on", which is a normal outcome.
    let mut analyze_run = child(&rss, &exe, &analyze_refs, &[0, 1]);
    let mut measured: Vec<&mut dyn FnMut() -> Measurement> = vec![&mut bare_run, &mut messages_run];
    if analyze.is_some() {
        measured.push(&mut analyze_run);
    }
    let best = best_interleaved(runs, &mut measured);
    let bare = best[0];
    let (messages_a, analyze_a) = (Some(best[1]), best.get(2).copied());
    rows.push(Row::new(
        "bare pcap-parser loop",
        "A",
        &main_cap,
        bare,
        None,
    ));
    let bare_pps = main_cap.packets as f64 / bare.0.as_secs_f64();
    rows.push(Row::new(
        "sipdiag messages --format json",
        "A",
        &main_cap,
        best[1],
        Some(Target {
            pct: MESSAGES_TARGET_PCT,
            bare_pps,
            rss_kib: Some(RSS_TARGET_KIB),
        }),
    ));
    if let Some(m) = best.get(2) {
        rows.push(Row::new(
            &format!(
                "sipdiag {}",
                analyze_refs[..analyze_refs.len() - 1].join(" ")
            ),
            "A",
            &main_cap,
            *m,
            Some(Target {
                pct: ANALYZE_TARGET_PCT,
                bare_pps,
                rss_kib: None,
            }),
        ));
    }

    // d. tshark, for scale.
    let tshark_wanted = std::env::var("SIPDIAG_BENCH_TSHARK").map_or(true, |v| v != "0");
    match which("tshark") {
        Some(tshark) if tshark_wanted => {
            let t = tshark.to_string_lossy().into_owned();
            let m = measure_child(
                runs,
                &rss,
                &t,
                &["-n", "-q", "-r", &main_arg, "-z", "sip,stat"],
                &[0],
            );
            rows.push(Row::new(
                "tshark -n -q -z sip,stat",
                "A",
                &main_cap,
                m,
                None,
            ));
        }
        Some(_) => notes.push("tshark: skipped (SIPDIAG_BENCH_TSHARK=0)".to_string()),
        None => notes.push("tshark: not measured (not on PATH)".to_string()),
    }

    // RTP volume vs memory: the same 1,000 calls with 50 and with 500 RTP packets each.
    let low_arg = low_cap.path.to_string_lossy().into_owned();
    let heavy_arg = heavy_cap.path.to_string_lossy().into_owned();
    let low = measure_child(
        runs,
        &rss,
        &exe,
        &["messages", "--format", "json", &low_arg],
        &[0],
    );
    rows.push(Row::new(
        "sipdiag messages --format json",
        "B",
        &low_cap,
        low,
        None,
    ));
    // C: the bare loop, `messages` and `analyze` in alternation, as on A: `analyze`'s
    // share of the bare loop on RTP-heavy traffic is a target of its own.
    let analyze_flags: Option<Vec<&str>> = analyze
        .as_ref()
        .map(|args| args[..args.len() - 1].iter().map(String::as_str).collect());
    let analyze_heavy_args: Option<Vec<&str>> = analyze_flags.as_ref().map(|f| {
        let mut a = f.clone();
        a.push(&heavy_arg);
        a
    });
    let mut bare_heavy_run = bare_run_of(&heavy_cap);
    let heavy_args = ["messages", "--format", "json", heavy_arg.as_str()];
    let mut heavy_run = child(&rss, &exe, &heavy_args, &[0]);
    let no_args: Vec<&str> = Vec::new();
    let mut analyze_heavy_run = child(
        &rss,
        &exe,
        analyze_heavy_args.as_deref().unwrap_or(&no_args),
        &[0, 1],
    );
    let mut measured: Vec<&mut dyn FnMut() -> Measurement> =
        vec![&mut bare_heavy_run, &mut heavy_run];
    if analyze_heavy_args.is_some() {
        measured.push(&mut analyze_heavy_run);
    }
    let best = best_interleaved(runs, &mut measured);
    let (bare_heavy, heavy, analyze_heavy) = (best[0], best[1], best.get(2).copied());
    rows.push(Row::new(
        "bare pcap-parser loop",
        "C",
        &heavy_cap,
        bare_heavy,
        None,
    ));
    let bare_heavy_pps = heavy_cap.packets as f64 / bare_heavy.0.as_secs_f64();
    rows.push(Row::new(
        "sipdiag messages --format json",
        "C",
        &heavy_cap,
        heavy,
        Some(Target {
            pct: MESSAGES_TARGET_PCT,
            bare_pps: bare_heavy_pps,
            rss_kib: Some(RSS_TARGET_KIB),
        }),
    ));

    // analyze on B (and C, above): its peak RSS must not follow the RTP volume either.
    let analyze_volume = analyze_flags.as_ref().zip(analyze_heavy).map(|(flags, c)| {
        let mut a = flags.clone();
        a.push(&low_arg);
        (measure_child(runs, &rss, &exe, &a, &[0, 1]), c)
    });
    if let Some((b, c)) = analyze_volume {
        let label = format!(
            "sipdiag {}",
            analyze_refs[..analyze_refs.len() - 1].join(" ")
        );
        rows.push(Row::new(&label, "B", &low_cap, b, None));
        rows.push(Row::new(
            &label,
            "C",
            &heavy_cap,
            c,
            Some(Target {
                pct: ANALYZE_TARGET_PCT,
                bare_pps: bare_heavy_pps,
                rss_kib: None,
            }),
        ));
    }

    // D: Follow-Me at scale; the whole diagnosis (roles, leg linking, every rule) on
    // 10,000 forwarded calls, a quarter of them rejected by XCC.
    if let Some(args) = analyze.as_ref() {
        let fm_arg = fm_cap.path.to_string_lossy().into_owned();
        let mut a: Vec<&str> = args[..args.len() - 1].iter().map(String::as_str).collect();
        a.push(&fm_arg);
        let bare_fm = best_of(runs, bare_run_of(&fm_cap));
        rows.push(Row::new(
            "bare pcap-parser loop",
            "D",
            &fm_cap,
            bare_fm,
            None,
        ));
        let m = measure_child(runs, &rss, &exe, &a, &[0, 1]);
        rows.push(Row::new(
            &format!("sipdiag {}", a[..a.len() - 1].join(" ")),
            "D",
            &fm_cap,
            m,
            None,
        ));
    }

    println!("Captures:");
    for (tag, c) in [
        ("A", &main_cap),
        ("B", &low_cap),
        ("C", &heavy_cap),
        ("D", &fm_cap),
    ] {
        println!(
            "  {tag}: {} calls x {} RTP: {} packets ({} SIP, {} RTP), {:.1} MB  {}",
            c.spec.calls,
            c.spec.rtp_per_call,
            c.packets,
            c.sip,
            c.packets - c.sip,
            c.bytes as f64 / 1e6,
            c.path.display()
        );
    }
    println!();
    print!("{}", table(&rows));
    for n in &notes {
        println!("note: {n}");
    }
    // `analyze` against `messages` on A, from the same alternating runs.
    if let (Some(m), Some(a)) = (messages_a, analyze_a) {
        let times = a.0.as_secs_f64() / m.0.as_secs_f64();
        println!(
            "analyze / messages on A: {:.3} s / {:.3} s = {times:.1}x (target <= {ANALYZE_VS_MESSAGES:.0}x): {}",
            a.0.as_secs_f64(),
            m.0.as_secs_f64(),
            if times <= ANALYZE_VS_MESSAGES {
                "PASS"
            } else {
                "FAIL"
            }
        );
    }
    println!();
    println!("RTP volume vs peak RSS (same 1,000 calls):");
    let mut volume = vec![("messages", low.1, heavy.1)];
    if let Some((b, c)) = analyze_volume {
        volume.push(("analyze", b.1, c.1));
    }
    for (command, b, c) in volume {
        println!(
            "  sipdiag {command:<8}  B ({:>3} RTP/call, {:>6} packets): {:>9}   C ({:>3} RTP/call, {:>6} packets): {:>9}",
            low_spec.rtp_per_call,
            low_cap.packets,
            fmt_rss(b),
            heavy_spec.rtp_per_call,
            heavy_cap.packets,
            fmt_rss(c)
        );
        if let (Some(a), Some(b)) = (b, c) {
            let grew = b as f64 / a as f64;
            println!(
                "    C/B = {grew:.2}x for {:.1}x the packets: {}",
                heavy_cap.packets as f64 / low_cap.packets as f64,
                if grew < 1.25 {
                    "memory does not follow RTP volume"
                } else {
                    "MEMORY GROWS WITH RTP VOLUME"
                }
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Measurement

/// Wall time of the best run and the largest peak RSS seen over all runs (KiB).
type Measurement = (Duration, Option<u64>);

fn best_of(runs: usize, mut f: impl FnMut() -> Measurement) -> Measurement {
    let mut best = Duration::MAX;
    let mut rss: Option<u64> = None;
    for _ in 0..runs {
        let (t, r) = f();
        best = best.min(t);
        if let Some(r) = r {
            rss = Some(rss.map_or(r, |x| x.max(r)));
        }
    }
    (best, rss)
}

/// How peak RSS of a child is obtained.
enum RssProbe {
    /// GNU time: `/usr/bin/time -f %M -o FILE` (the kernel's ru_maxrss, exact).
    GnuTime(PathBuf),
    /// Poll `/proc/<pid>/status` VmHWM every 5 ms (may miss a peak in the last 5 ms).
    Poll,
}

impl RssProbe {
    fn detect() -> Self {
        let t = Path::new("/usr/bin/time");
        let works = Command::new(t)
            .args(["-f", "%M", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .is_ok_and(|o| {
                o.status.success()
                    && String::from_utf8_lossy(&o.stderr)
                        .trim()
                        .parse::<u64>()
                        .is_ok()
            });
        if works {
            RssProbe::GnuTime(t.to_path_buf())
        } else {
            RssProbe::Poll
        }
    }

    fn describe(&self) -> String {
        match self {
            RssProbe::GnuTime(p) => format!("{} -f %M (ru_maxrss)", p.display()),
            RssProbe::Poll => "polling /proc/<pid>/status VmHWM every 5 ms".to_string(),
        }
    }
}

/// Runs every measurement once per round for `runs` rounds and keeps each one's best
/// time (and largest RSS): measured in alternation, a slow spell of a shared machine
/// hits every row alike instead of one of them.
fn best_interleaved(runs: usize, fs: &mut [&mut dyn FnMut() -> Measurement]) -> Vec<Measurement> {
    let mut best: Vec<Measurement> = vec![(Duration::MAX, None); fs.len()];
    for _ in 0..runs {
        for (f, b) in fs.iter_mut().zip(best.iter_mut()) {
            let (t, r) = f();
            b.0 = b.0.min(t);
            if let Some(r) = r {
                b.1 = Some(b.1.map_or(r, |x| x.max(r)));
            }
        }
    }
    best
}

/// One run of `exe args` (stdout to /dev/null) as a measurement; panics on an exit code
/// not in `ok`.
fn child<'a>(
    probe: &'a RssProbe,
    exe: &'a str,
    args: &'a [&'a str],
    ok: &'a [i32],
) -> impl FnMut() -> Measurement + 'a {
    move || {
        let (t, rss, status, stderr) = run_once(probe, exe, args);
        if !status.code().is_some_and(|c| ok.contains(&c)) {
            panic!("{exe} {} failed with {status}:\n{stderr}", args.join(" "));
        }
        (t, rss)
    }
}

/// Runs `exe args` with stdout to /dev/null; best wall time, peak RSS.
fn measure_child(
    runs: usize,
    probe: &RssProbe,
    exe: &str,
    args: &[&str],
    ok: &[i32],
) -> Measurement {
    best_of(runs, || {
        let (t, rss, status, stderr) = run_once(probe, exe, args);
        if !status.code().is_some_and(|c| ok.contains(&c)) {
            panic!("{exe} {} failed with {status}:\n{stderr}", args.join(" "));
        }
        (t, rss)
    })
}

fn run_once(
    probe: &RssProbe,
    exe: &str,
    args: &[&str],
) -> (Duration, Option<u64>, ExitStatus, String) {
    match probe {
        RssProbe::GnuTime(time) => {
            let out =
                std::env::temp_dir().join(format!("sipdiag-bench-rss-{}", std::process::id()));
            let start = Instant::now();
            let o = Command::new(time)
                .arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(&out)
                .arg(exe)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("run /usr/bin/time");
            let t = start.elapsed();
            let text = fs::read_to_string(&out).unwrap_or_default();
            let _ = fs::remove_file(&out);
            // GNU time writes "Command exited with non-zero status N" before the value.
            let rss = text
                .lines()
                .rev()
                .find_map(|l| l.trim().parse::<u64>().ok());
            (
                t,
                rss,
                o.status,
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        }
        RssProbe::Poll => {
            let start = Instant::now();
            let mut child = Command::new(exe)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            let status_path = format!("/proc/{}/status", child.id());
            let mut hwm = None;
            let status = loop {
                if let Some(v) = fs::read_to_string(&status_path)
                    .ok()
                    .and_then(|s| vm_hwm(&s))
                {
                    hwm = Some(hwm.map_or(v, |h: u64| h.max(v)));
                }
                if let Some(st) = child.try_wait().expect("wait") {
                    break st;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            (start.elapsed(), hwm, status, String::new())
        }
    }
}

fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// `sipdiag analyze` arguments when the command exists (all rules, JSON when supported).
fn analyze_args(exe: &str) -> Option<Vec<String>> {
    let help = Command::new(exe).arg("--help").output().ok()?;
    let help = String::from_utf8_lossy(&help.stdout);
    let listed = help
        .lines()
        .any(|l| l.split_whitespace().next() == Some("analyze"));
    if !listed {
        return None;
    }
    let sub = Command::new(exe)
        .args(["analyze", "--help"])
        .output()
        .ok()?;
    let sub = String::from_utf8_lossy(&sub.stdout);
    let mut args = vec!["analyze".to_string()];
    if sub.contains("--format") {
        args.extend(["--format".to_string(), "json".to_string()]);
    }
    Some(args)
}

/// One timed run of the bare loop over `cap` as a measurement.
fn bare_run_of(cap: &Capture) -> impl FnMut() -> Measurement + '_ {
    move || {
        let start = Instant::now();
        let (packets, sum) = bare_loop(&cap.path).expect("bare loop");
        assert_eq!(packets, cap.packets, "bare loop packet count");
        black_box(sum);
        (start.elapsed(), None)
    }
}

/// Streams the file through pcap-parser and decodes Ethernet/IPv4/UDP by hand.
/// Returns (packets, checksum of ports and payload lengths).
fn bare_loop(path: &Path) -> io::Result<(u64, u64)> {
    let file = File::open(path)?;
    let mut reader = pcap_parser::create_reader(1 << 20, file)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    let mut packets = 0u64;
    let mut sum = 0u64;
    let mut linktype = 0i32;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => linktype = h.network.0,
                    PcapBlockOwned::Legacy(b) => {
                        packets += 1;
                        if linktype == 1 {
                            let caplen = (b.caplen as usize).min(b.data.len());
                            sum = sum.wrapping_add(decode_udp(&b.data[..caplen]));
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                // As sipdiag does: the tail is moved once per refill, not per record.
                reader.consume_noshift(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                reader
                    .refill()
                    .map_err(|e| io::Error::other(format!("{e:?}")))?;
            }
            Err(e) => return Err(io::Error::other(format!("{e:?}"))),
        }
    }
    Ok((packets, sum))
}

/// Ethernet → IPv4 → UDP; the ports and the payload length, 0 for anything else.
#[inline]
fn decode_udp(d: &[u8]) -> u64 {
    if d.len() < 14 + 20 + 8 || u16::from_be_bytes([d[12], d[13]]) != 0x0800 {
        return 0;
    }
    let ip = &d[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip[0] >> 4 != 4 || ihl < 20 || ip[9] != 17 || ip.len() < ihl + 8 {
        return 0;
    }
    let udp = &ip[ihl..];
    let sport = u16::from_be_bytes([udp[0], udp[1]]);
    let dport = u16::from_be_bytes([udp[2], udp[3]]);
    let payload = udp.len() - 8;
    u64::from(sport) + u64::from(dport) + payload as u64
}

// ---------------------------------------------------------------------------------------
// Report

struct Target {
    pct: f64,
    bare_pps: f64,
    /// Peak RSS limit, KiB, where there is one.
    rss_kib: Option<u64>,
}

struct Row {
    tool: String,
    capture: &'static str,
    packets: u64,
    secs: f64,
    mb_per_s: f64,
    rss: Option<u64>,
    target: Option<Target>,
}

impl Row {
    fn new(
        tool: &str,
        capture: &'static str,
        c: &Capture,
        m: Measurement,
        target: Option<Target>,
    ) -> Row {
        let secs = m.0.as_secs_f64();
        Row {
            tool: tool.to_string(),
            capture,
            packets: c.packets,
            secs,
            mb_per_s: c.bytes as f64 / 1e6 / secs,
            rss: m.1,
            target,
        }
    }

    fn pps(&self) -> f64 {
        self.packets as f64 / self.secs
    }
}

fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_string(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn table(rows: &[Row]) -> String {
    let head = [
        "tool",
        "cap",
        "packets",
        "seconds",
        "packets/s",
        "MB/s",
        "peak RSS",
        "% of bare",
        "target",
        "verdict",
    ];
    let mut cells: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        let (pct, target, verdict) = match &r.target {
            Some(t) => {
                let pct = r.pps() / t.bare_pps * 100.0;
                let speed_ok = pct >= t.pct;
                let rss_ok = match (t.rss_kib, r.rss) {
                    (Some(limit), Some(k)) => k <= limit,
                    _ => true,
                };
                let verdict = match (speed_ok, rss_ok) {
                    (true, true) => "PASS".to_string(),
                    (false, true) => "FAIL speed".to_string(),
                    (true, false) => "FAIL RSS".to_string(),
                    (false, false) => "FAIL speed+RSS".to_string(),
                };
                (
                    format!("{pct:.1} %"),
                    match t.rss_kib {
                        Some(limit) => format!(">={:.0} %, <={} MiB", t.pct, limit / 1024),
                        None => format!(">={:.0} %", t.pct),
                    },
                    verdict,
                )
            }
            None => (String::new(), String::new(), String::new()),
        };
        cells.push(vec![
            r.tool.clone(),
            r.capture.to_string(),
            r.packets.to_string(),
            format!("{:.3}", r.secs),
            format!("{:.0}", r.pps()),
            format!("{:.1}", r.mb_per_s),
            fmt_rss(r.rss),
            pct,
            target,
            verdict,
        ]);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // Text left, numbers right.
                if i <= 1 || i >= 8 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", line.join(" | "));
        if n == 0 {
            let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "|-{}-|", sep.join("-|-"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Capture generation

#[derive(Clone, Copy)]
struct Spec {
    calls: u32,
    rtp_per_call: u32,
    /// Forwarded (Follow-Me) calls through one PBX and one XCC instead of plain calls.
    followme: bool,
}

struct Capture {
    spec: Spec,
    path: PathBuf,
    packets: u64,
    sip: u64,
    bytes: u64,
}

/// Returns the cached capture for `spec`, generating it when missing.
fn ensure_capture(dir: &Path, spec: Spec) -> Capture {
    let (kind, version) = if spec.followme {
        ("followme", FM_GENERATOR_VERSION)
    } else {
        ("sip-rtp", GENERATOR_VERSION)
    };
    let name = format!(
        "{kind}-v{version}-{}calls-{}rtp.pcap",
        spec.calls, spec.rtp_per_call
    );
    let path = dir.join(name);
    let (packets, sip) = if spec.followme {
        fm_counts(spec.calls, spec.rtp_per_call)
    } else {
        (
            u64::from(spec.calls) * (7 + u64::from(spec.rtp_per_call)),
            u64::from(spec.calls) * 7,
        )
    };
    if !path.exists() {
        let tmp = path.with_extension("pcap.tmp");
        let start = Instant::now();
        let written = if spec.followme {
            generate_followme(&tmp, spec)
        } else {
            generate(&tmp, spec)
        }
        .expect("write capture");
        assert_eq!(written, packets);
        fs::rename(&tmp, &path).expect("rename capture");
        println!(
            "generated {} in {:.1} s",
            path.display(),
            start.elapsed().as_secs_f64()
        );
    }
    let bytes = fs::metadata(&path).expect("stat capture").len();
    println!(
        "capture {}: {:.1} MB ({bytes} bytes), {packets} packets",
        path.display(),
        bytes as f64 / 1e6
    );
    Capture {
        spec,
        path,
        packets,
        sip,
        bytes,
    }
}

/// Minimal classic pcap writer (microsecond, little endian, Ethernet).
struct PcapWriter<W: Write> {
    w: W,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    fn new(mut w: W) -> io::Result<Self> {
        w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&0i32.to_le_bytes())?; // thiszone
        w.write_all(&0u32.to_le_bytes())?; // sigfigs
        w.write_all(&65535u32.to_le_bytes())?; // snaplen
        w.write_all(&1u32.to_le_bytes())?; // LINKTYPE_ETHERNET
        Ok(PcapWriter { w, packets: 0 })
    }

    fn record(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        let len = frame.len() as u32;
        self.w
            .write_all(&((ts_us / 1_000_000) as u32).to_le_bytes())?;
        self.w
            .write_all(&((ts_us % 1_000_000) as u32).to_le_bytes())?;
        self.w.write_all(&len.to_le_bytes())?;
        self.w.write_all(&len.to_le_bytes())?;
        self.w.write_all(frame)?;
        self.packets += 1;
        Ok(())
    }
}

impl PcapWriter<BufWriter<File>> {
    /// Flushes the file to disk; the number of packets written.
    fn finish(self) -> io::Result<u64> {
        self.w
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        Ok(self.packets)
    }
}

#[derive(Clone, Copy)]
struct Endpoint {
    ip: [u8; 4],
    port: u16,
}

impl Endpoint {
    fn mac(&self) -> [u8; 6] {
        [0x02, 0x00, self.ip[0], self.ip[1], self.ip[2], self.ip[3]]
    }
}

fn ip_str(ip: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

fn checksum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn checksum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 + UDP around `payload`, checksums filled in.
fn udp_frame(
    buf: &mut Vec<u8>,
    src: Endpoint,
    dst: Endpoint,
    ip_id: u16,
    dscp_tos: u8,
    payload: &[u8],
) {
    buf.clear();
    buf.extend_from_slice(&dst.mac());
    buf.extend_from_slice(&src.mac());
    buf.extend_from_slice(&0x0800u16.to_be_bytes());
    let udp_len = (8 + payload.len()) as u16;
    let total = 20 + udp_len;
    let ip_start = buf.len();
    buf.extend_from_slice(&[0x45, dscp_tos]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&ip_id.to_be_bytes());
    buf.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
    buf.extend_from_slice(&[64, 17, 0, 0]);
    buf.extend_from_slice(&src.ip);
    buf.extend_from_slice(&dst.ip);
    let ip_sum = checksum_fold(checksum_add(0, &buf[ip_start..ip_start + 20]));
    buf[ip_start + 10..ip_start + 12].copy_from_slice(&ip_sum.to_be_bytes());
    let udp_start = buf.len();
    buf.extend_from_slice(&src.port.to_be_bytes());
    buf.extend_from_slice(&dst.port.to_be_bytes());
    buf.extend_from_slice(&udp_len.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
    // Pseudo header + UDP header + payload.
    let mut sum = checksum_add(0, &src.ip);
    sum = checksum_add(sum, &dst.ip);
    sum += 17 + u32::from(udp_len);
    sum = checksum_add(sum, &buf[udp_start..]);
    let mut udp_sum = checksum_fold(sum);
    if udp_sum == 0 {
        udp_sum = 0xffff;
    }
    buf[udp_start + 6..udp_start + 8].copy_from_slice(&udp_sum.to_be_bytes());
}

/// One call's identities and addresses.
struct Call {
    n: u32,
    caller: [u8; 4],
    callee: [u8; 4],
    caller_rtp: u16,
    callee_rtp: u16,
    ssrc: [u32; 2],
    seq: [u16; 2],
    ts: [u32; 2],
    ip_id: [u16; 2],
}

impl Call {
    fn new(n: u32) -> Call {
        let subnet = (n / 250) as u8;
        let host = (n % 250 + 2) as u8;
        let h = n.wrapping_mul(2_654_435_761); // Knuth's multiplicative hash: varied values
        Call {
            n,
            caller: [10, 1, subnet, host],
            callee: [10, 2, subnet, host],
            caller_rtp: 16384 + 2 * (n % 8000) as u16,
            callee_rtp: 40000 + 2 * (n % 8000) as u16,
            ssrc: [h ^ 0x5a5a_0001, h.rotate_left(13) ^ 0xa5a5_0002],
            seq: [(h >> 16) as u16, h as u16],
            ts: [h.rotate_left(7), h.rotate_left(21)],
            ip_id: [(h >> 3) as u16, (h >> 11) as u16],
        }
    }

    fn sip(&self, caller_side: bool) -> Endpoint {
        Endpoint {
            ip: if caller_side {
                self.caller
            } else {
                self.callee
            },
            port: 5060,
        }
    }

    fn call_id(&self) -> String {
        format!(
            "{:08x}-{:04x}-bench@{}",
            self.n.wrapping_mul(2_654_435_761),
            self.n,
            ip_str(self.caller)
        )
    }

    fn sdp(&self, caller_side: bool) -> String {
        let (ip, port, sess) = if caller_side {
            (
                ip_str(self.caller),
                self.caller_rtp,
                1_000_000 + u64::from(self.n),
            )
        } else {
            (
                ip_str(self.callee),
                self.callee_rtp,
                2_000_000 + u64::from(self.n),
            )
        };
        let formats = if caller_side { "8 0 101" } else { "8 101" };
        let mut s = format!(
            "v=0\r\no=- {sess} {sess} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {formats}\r\na=rtpmap:8 PCMA/8000\r\n"
        );
        if caller_side {
            s.push_str("a=rtpmap:0 PCMU/8000\r\n");
        }
        s.push_str(
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
        );
        s
    }

    /// The seven SIP messages of the call: (sent by caller?, text).
    fn messages(&self) -> [(bool, String); 7] {
        let n = self.n;
        let caller = ip_str(self.caller);
        let callee = ip_str(self.callee);
        let call_id = self.call_id();
        let from = format!(
            "\"Bench Caller {n}\" <sip:{}@{caller}>;tag={:08x}",
            2000 + n,
            n.wrapping_mul(40503) ^ 0x1234_5678
        );
        let to_uri = format!("<sip:+4930555{n:05}@{callee}>");
        let to_tag = format!("{to_uri};tag=as{:08x}", n.wrapping_mul(69069));
        let via1 = format!(
            "SIP/2.0/UDP {caller}:5060;branch=z9hG4bK{:08x}inv;rport=5060",
            n
        );
        let via_ack = format!("SIP/2.0/UDP {caller}:5060;branch=z9hG4bK{:08x}ack;rport", n);
        let via_bye = format!("SIP/2.0/UDP {caller}:5060;branch=z9hG4bK{:08x}bye;rport", n);
        let contact_a = format!("<sip:{}@{caller}:5060;transport=udp>", 2000 + n);
        let contact_b = format!("<sip:+4930555{n:05}@{callee}:5060>");
        let allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE, PRACK";
        let offer = self.sdp(true);
        let answer = self.sdp(false);
        let invite = format!(
            "INVITE sip:+4930555{n:05}@{callee}:5060 SIP/2.0\r\nVia: {via1}\r\nMax-Forwards: 70\r\n\
             From: {from}\r\nTo: {to_uri}\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: {contact_a}\r\n\
             Allow: {allow}\r\nSupported: replaces, timer, 100rel\r\nSession-Expires: 1800\r\n\
             User-Agent: BenchPhone/2.4.1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
            offer.len()
        );
        let resp = |status: &str, to: &str, extra: &str, body: &str| {
            let ct = if body.is_empty() {
                ""
            } else {
                "Content-Type: application/sdp\r\n"
            };
            format!(
                "SIP/2.0 {status}\r\nVia: {via1};received={caller}\r\nFrom: {from}\r\nTo: {to}\r\n\
                 Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n{extra}Server: BenchGateway/7.1\r\n{ct}\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let trying = resp("100 Trying", &to_uri, "", "");
        let ringing = resp(
            "180 Ringing",
            &to_tag,
            &format!("Contact: {contact_b}\r\n"),
            "",
        );
        let ok = resp(
            "200 OK",
            &to_tag,
            &format!(
                "Contact: {contact_b}\r\nAllow: {allow}\r\nSupported: replaces, timer\r\nSession-Expires: 1800;refresher=uac\r\n"
            ),
            &answer,
        );
        let ack = format!(
            "ACK sip:+4930555{n:05}@{callee}:5060 SIP/2.0\r\nVia: {via_ack}\r\nMax-Forwards: 70\r\n\
             From: {from}\r\nTo: {to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nContact: {contact_a}\r\n\
             User-Agent: BenchPhone/2.4.1\r\nContent-Length: 0\r\n\r\n"
        );
        let bye = format!(
            "BYE sip:+4930555{n:05}@{callee}:5060 SIP/2.0\r\nVia: {via_bye}\r\nMax-Forwards: 70\r\n\
             From: {from}\r\nTo: {to_tag}\r\nCall-ID: {call_id}\r\nCSeq: 2 BYE\r\n\
             User-Agent: BenchPhone/2.4.1\r\nContent-Length: 0\r\n\r\n"
        );
        let bye_ok = format!(
            "SIP/2.0 200 OK\r\nVia: {via_bye};received={caller}\r\nFrom: {from}\r\nTo: {to_tag}\r\n\
             Call-ID: {call_id}\r\nCSeq: 2 BYE\r\nServer: BenchGateway/7.1\r\nContent-Length: 0\r\n\r\n"
        );
        [
            (true, invite),
            (false, trying),
            (false, ringing),
            (false, ok),
            (true, ack),
            (true, bye),
            (false, bye_ok),
        ]
    }

    /// RTP packet `k` of the call: even k caller → callee, odd k the reverse.
    fn rtp(&mut self, k: u32, payload: &mut [u8; 12 + 160]) -> (Endpoint, Endpoint, u16) {
        let dir = (k % 2) as usize;
        let first = k < 2;
        payload[0] = 0x80;
        payload[1] = if first { 0x80 | 8 } else { 8 }; // marker on the first packet, PT 8 (PCMA)
        payload[2..4].copy_from_slice(&self.seq[dir].to_be_bytes());
        payload[4..8].copy_from_slice(&self.ts[dir].to_be_bytes());
        payload[8..12].copy_from_slice(&self.ssrc[dir].to_be_bytes());
        // A-law near-silence with a little variation, like comfort noise.
        let seed = self.seq[dir] as u32 ^ self.ssrc[dir];
        for (i, b) in payload[12..].iter_mut().enumerate() {
            *b = 0xd5 ^ (((seed.wrapping_add(i as u32 * 7)) >> 3) & 0x03) as u8;
        }
        self.seq[dir] = self.seq[dir].wrapping_add(1);
        self.ts[dir] = self.ts[dir].wrapping_add(160);
        let a = Endpoint {
            ip: self.caller,
            port: self.caller_rtp,
        };
        let b = Endpoint {
            ip: self.callee,
            port: self.callee_rtp,
        };
        let id = self.ip_id[dir];
        self.ip_id[dir] = id.wrapping_add(1);
        if dir == 0 { (a, b, id) } else { (b, a, id) }
    }
}

/// Writes the capture; returns the number of packets.
fn generate(path: &Path, spec: Spec) -> io::Result<u64> {
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, File::create(path)?))?;
    let mut frame = Vec::with_capacity(2048);
    let mut rtp = [0u8; 12 + 160];
    let mut t: u64 = 1_700_000_000 * 1_000_000; // µs
    let mut sip_id: u16 = 1;
    let mut first = 0;
    while first < spec.calls {
        let last = (first + BATCH).min(spec.calls);
        let mut calls: Vec<Call> = (first..last).map(Call::new).collect();
        let texts: Vec<[(bool, String); 7]> = calls.iter().map(Call::messages).collect();
        let sip_frame = |frame: &mut Vec<u8>, c: &Call, by_caller: bool, text: &str, id: u16| {
            let (s, d) = (c.sip(by_caller), c.sip(!by_caller));
            udp_frame(frame, s, d, id, 0x68, text.as_bytes()); // DSCP CS3 for signalling
        };
        // Set-up: each call's INVITE .. ACK, calls starting 3 ms apart and overlapping.
        let setup_offsets_us = [0u64, 900, 40_000, 1_500_000, 1_501_200];
        let mut events: Vec<(u64, usize, usize)> = Vec::new();
        for (i, _) in calls.iter().enumerate() {
            for (m, off) in setup_offsets_us.iter().enumerate() {
                events.push((t + i as u64 * 3_000 + off, i, m));
            }
        }
        events.sort_unstable();
        for &(at, i, m) in &events {
            let (by_caller, text) = &texts[i][m];
            sip_frame(&mut frame, &calls[i], *by_caller, text, sip_id);
            sip_id = sip_id.wrapping_add(1);
            w.record(at, &frame)?;
        }
        t = events.last().map_or(t, |e| e.0) + 2_000;
        // Media: every call sends one packet per 10 ms round, directions alternating,
        // so each direction has the usual 20 ms packet time.
        let per_packet = 10_000 / calls.len() as u64;
        for k in 0..spec.rtp_per_call {
            for c in calls.iter_mut() {
                let (s, d, id) = c.rtp(k, &mut rtp);
                udp_frame(&mut frame, s, d, id, 0xb8, &rtp); // DSCP EF for media
                w.record(t, &frame)?;
                t += per_packet;
            }
        }
        // Tear-down: BYE and its 200 OK.
        for (c, msgs) in calls.iter().zip(&texts) {
            for (by_caller, text) in &msgs[5..7] {
                sip_frame(&mut frame, c, *by_caller, text, sip_id);
                sip_id = sip_id.wrapping_add(1);
                w.record(t, &frame)?;
                t += 700;
            }
        }
        t += 5_000;
        first = last;
    }
    w.finish()
}

// ---------------------------------------------------------------------------------------
// Capture D: Follow-Me at scale

/// The PBX and XCC of capture D (one of each, as on a site).
const FM_PBX: [u8; 4] = [10, 1, 0, 1];
const FM_XCC: [u8; 4] = [10, 2, 0, 1];

/// Whether forwarded call `n` of capture D fails (XCC answers 503: the Diversion number
/// is in the 00 international format, which XCC does not know).
fn fm_fails(n: u32) -> bool {
    n % 4 == 3
}

/// SIP messages and RTP packets of capture D with `calls` forwarded calls.
fn fm_counts(calls: u32, rtp_per_call: u32) -> (u64, u64) {
    let failed = u64::from((0..calls).filter(|&n| fm_fails(n)).count() as u32);
    let ok = u64::from(calls) - failed;
    let sip = failed * 4 + ok * 14;
    (sip + 2 * ok * u64::from(rtp_per_call), sip)
}

/// The SIP messages of forwarded call `n`: `(sent by the PBX?, text)`. First leg
/// PBX → XCC with Diversion (Call-ID `a…`); when it works, XCC's second leg XCC → PBX to
/// the external number (Call-ID `b…`), both answered, media on both legs (XCC relays
/// it), then both torn down. The first `setup` messages are the set-up, the rest the tear-down.
fn fm_messages(c: &Call) -> (Vec<(bool, String)>, usize) {
    let n = c.n;
    let (pbx, xcc) = (ip_str(FM_PBX), ip_str(FM_XCC));
    let user = format!("+4930555{n:05}");
    let diverted = if fm_fails(n) {
        format!("004930555{n:05}")
    } else {
        user.clone()
    };
    let caller = format!("+4917{:08}", 10_000_000 + n);
    let mobile = format!("+4916{:08}", 20_000_000 + n);
    let sdp = |ip: &str, port: u16, sess: u32| {
        format!(
            "v=0\r\no=- {sess} {sess} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n"
        )
    };
    // Extra headers, Content-Type when there is a body, Content-Length, the body.
    let tail = |extra: &str, body: &str| {
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!("{extra}{ct}Content-Length: {}\r\n\r\n{body}", body.len())
    };
    let req = |method: &str,
               ruri: &str,
               via: &str,
               from: &str,
               to: &str,
               id: &str,
               cseq: u32,
               extra: &str,
               body: &str| {
        format!(
            "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK{id}{method}{cseq}\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {id}\r\nCSeq: {cseq} {method}\r\n\
             {}",
            tail(extra, body)
        )
    };
    let resp = |status: &str,
                via: &str,
                branch: &str,
                from: &str,
                to: &str,
                id: &str,
                cseq: &str,
                extra: &str,
                body: &str| {
        format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK{branch}\r\nFrom: {from}\r\nTo: {to}\r\n\
             Call-ID: {id}\r\nCSeq: {cseq}\r\n{}",
            tail(extra, body)
        )
    };
    let a = format!("a{n:06}-fm@{pbx}");
    let b = format!("b{n:06}-fm@{xcc}");
    let a_from = format!("<sip:{caller}@{pbx}>;tag=pa{n}");
    let a_to = format!("<sip:{user}@{xcc}>");
    let a_to_tag = format!("{a_to};tag=xa{n}");
    let b_from = format!("<sip:{caller}@{xcc}>;tag=xb{n}");
    let b_to = format!("<sip:{mobile}@{pbx}>");
    let b_to_tag = format!("{b_to};tag=pb{n}");
    let a_branch = format!("{a}INVITE1");
    let b_branch = format!("{b}INVITE1");
    let pbx_agent = "User-Agent: IP Office 11.1\r\n";
    let xcc_agent = "User-Agent: XCC 9.0\r\n";
    let invite_a = req(
        "INVITE",
        &format!("sip:{user}@{xcc}"),
        &format!("{pbx}:5060"),
        &a_from,
        &a_to,
        &a,
        1,
        &format!(
            "Diversion: <sip:{diverted}@{pbx}>;reason=unconditional;counter=1\r\nContact: <sip:{caller}@{pbx}:5060>\r\n{pbx_agent}"
        ),
        &sdp(&pbx, c.caller_rtp, 1_000_000 + n),
    );
    let trying_a = resp(
        "100 Trying",
        &format!("{pbx}:5060"),
        &a_branch,
        &a_from,
        &a_to,
        &a,
        "1 INVITE",
        "",
        "",
    );
    if fm_fails(n) {
        let busy = resp(
            "503 Service Unavailable",
            &format!("{pbx}:5060"),
            &a_branch,
            &a_from,
            &a_to_tag,
            &a,
            "1 INVITE",
            "Server: XCC 9.0\r\n",
            "",
        );
        let ack = format!(
            "ACK sip:{user}@{xcc} SIP/2.0\r\nVia: SIP/2.0/UDP {pbx}:5060;branch=z9hG4bK{a_branch}\r\n\
             Max-Forwards: 70\r\nFrom: {a_from}\r\nTo: {a_to_tag}\r\nCall-ID: {a}\r\nCSeq: 1 ACK\r\n\
             Content-Length: 0\r\n\r\n"
        );
        return (
            vec![
                (true, invite_a),
                (false, trying_a),
                (false, busy),
                (true, ack),
            ],
            4,
        );
    }
    let invite_b = req(
        "INVITE",
        &format!("sip:{mobile}@{pbx}"),
        &format!("{xcc}:5060"),
        &b_from,
        &b_to,
        &b,
        1,
        &format!("Contact: <sip:{caller}@{xcc}:5060>\r\n{xcc_agent}"),
        &sdp(&xcc, c.callee_rtp + 2, 3_000_000 + n),
    );
    let b_resp = |status: &str, to: &str, body: &str| {
        resp(
            status,
            &format!("{xcc}:5060"),
            &b_branch,
            &b_from,
            to,
            &b,
            "1 INVITE",
            "Server: IP Office 11.1\r\n",
            body,
        )
    };
    let a_resp = |status: &str, to: &str, body: &str| {
        resp(
            status,
            &format!("{pbx}:5060"),
            &a_branch,
            &a_from,
            to,
            &a,
            "1 INVITE",
            "Server: XCC 9.0\r\n",
            body,
        )
    };
    // (request URI, Via sent-by, From, To with tag, Call-ID) of leg A or B, for the
    // in-dialog requests and their answers.
    let leg = |leg_a: bool| {
        if leg_a {
            (
                format!("sip:{user}@{xcc}"),
                format!("{pbx}:5060"),
                &a_from,
                &a_to_tag,
                &a,
            )
        } else {
            (
                format!("sip:{mobile}@{pbx}"),
                format!("{xcc}:5060"),
                &b_from,
                &b_to_tag,
                &b,
            )
        }
    };
    let ack = |leg_a: bool| {
        let (ruri, via, from, to, id) = leg(leg_a);
        req("ACK", &ruri, &via, from, to, id, 1, "", "")
    };
    let bye = |leg_a: bool| {
        let (ruri, via, from, to, id) = leg(leg_a);
        req("BYE", &ruri, &via, from, to, id, 2, "", "")
    };
    let bye_ok = |leg_a: bool| {
        let (_, via, from, to, id) = leg(leg_a);
        resp(
            "200 OK",
            &via,
            &format!("{id}BYE2"),
            from,
            to,
            id,
            "2 BYE",
            "",
            "",
        )
    };
    (
        vec![
            (true, invite_a),
            (false, trying_a),
            (false, invite_b),
            (true, b_resp("100 Trying", &b_to, "")),
            (true, b_resp("180 Ringing", &b_to_tag, "")),
            (false, a_resp("180 Ringing", &a_to_tag, "")),
            (
                true,
                b_resp(
                    "200 OK",
                    &b_to_tag,
                    &sdp(&pbx, c.caller_rtp + 2, 4_000_000 + n),
                ),
            ),
            (false, ack(false)),
            (
                false,
                a_resp("200 OK", &a_to_tag, &sdp(&xcc, c.callee_rtp, 2_000_000 + n)),
            ),
            (true, ack(true)),
            (true, bye(true)),
            (false, bye_ok(true)),
            (false, bye(false)),
            (true, bye_ok(false)),
        ],
        10,
    )
}

/// Writes capture D; returns the number of packets.
fn generate_followme(path: &Path, spec: Spec) -> io::Result<u64> {
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, File::create(path)?))?;
    let mut frame = Vec::with_capacity(2048);
    let mut rtp = [0u8; 12 + 160];
    let mut t: u64 = 1_700_000_000 * 1_000_000; // µs
    let mut sip_id: u16 = 1;
    let pbx = Endpoint {
        ip: FM_PBX,
        port: 5060,
    };
    let xcc = Endpoint {
        ip: FM_XCC,
        port: 5060,
    };
    let mut first = 0;
    while first < spec.calls {
        let last = (first + BATCH).min(spec.calls);
        let mut calls: Vec<Call> = (first..last)
            .map(|n| {
                let mut c = Call::new(n);
                (c.caller, c.callee) = (FM_PBX, FM_XCC);
                c
            })
            .collect();
        let texts: Vec<(Vec<(bool, String)>, usize)> = calls.iter().map(fm_messages).collect();
        let send = |w: &mut PcapWriter<BufWriter<File>>,
                    frame: &mut Vec<u8>,
                    sip_id: &mut u16,
                    at: u64,
                    by_pbx: bool,
                    text: &str| {
            let (s, d) = if by_pbx { (pbx, xcc) } else { (xcc, pbx) };
            udp_frame(frame, s, d, *sip_id, 0x68, text.as_bytes());
            *sip_id = sip_id.wrapping_add(1);
            w.record(at, frame)
        };
        // Set-up, calls starting 3 ms apart and overlapping (20 ms between messages).
        let mut events: Vec<(u64, usize, usize)> = Vec::new();
        for (i, (_, setup)) in texts.iter().enumerate() {
            for m in 0..*setup {
                events.push((t + i as u64 * 3_000 + m as u64 * 20_000, i, m));
            }
        }
        events.sort_unstable();
        for &(at, i, m) in &events {
            let (by_pbx, text) = &texts[i].0[m];
            send(&mut w, &mut frame, &mut sip_id, at, *by_pbx, text)?;
        }
        t = events.last().map_or(t, |e| e.0) + 2_000;
        // Media on both legs of the answered calls: PBX ↔ XCC for the first leg, XCC ↔ PBX
        // for the second (ports two above, their own SSRCs and sequence numbers).
        let answered: Vec<usize> = (0..calls.len())
            .filter(|&i| !fm_fails(calls[i].n))
            .collect();
        let mut second_legs: Vec<Call> = answered
            .iter()
            .map(|&i| {
                let a = &calls[i];
                let mut b = Call::new(a.n + 1_000_000);
                (b.caller, b.callee) = (FM_PBX, FM_XCC);
                (b.caller_rtp, b.callee_rtp) = (a.caller_rtp + 2, a.callee_rtp + 2);
                b
            })
            .collect();
        if !answered.is_empty() {
            let per_packet = 10_000 / (2 * answered.len() as u64);
            for k in 0..spec.rtp_per_call {
                for (j, &i) in answered.iter().enumerate() {
                    for leg in [&mut calls[i], &mut second_legs[j]] {
                        let (s, d, id) = leg.rtp(k, &mut rtp);
                        udp_frame(&mut frame, s, d, id, 0xb8, &rtp);
                        w.record(t, &frame)?;
                        t += per_packet;
                    }
                }
            }
        }
        // Tear-down.
        for (msgs, setup) in &texts {
            for (by_pbx, text) in &msgs[*setup..] {
                send(&mut w, &mut frame, &mut sip_id, t, *by_pbx, text)?;
                t += 700;
            }
        }
        t += 5_000;
        first = last;
    }
    w.finish()
}
