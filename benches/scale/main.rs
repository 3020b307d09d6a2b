//! Scale benchmark: peak memory and wall time of `messages`, `calls`, `analyze`, `media` and
//! `watch` (each call judged when it has ended)
//! on a busy site's hour (`benches/scale/scale_gen.rs`): 100,000 and 1,000,000 short calls to four
//! gateways, 8 % rejected 503. Memory should follow the calls in progress (about 600
//! held at once in the first, 5,600 in the second, whose calls come ten times as fast),
//! not the calls seen; wall time the size of the capture. See benches/README.md.
//!
//! The smallest size is run a second time with its first call lasting the hour (`+ long`):
//! rows that wait for an earlier call still in progress must not bring memory back. Last,
//! a day of registrations without a call (`registrations`: 500 phones refreshing every
//! 5 minutes, each refresh challenged, 576,000 messages under 500 Call-IDs that last the
//! whole capture): what calls that never end keep must not grow with the days. And the
//! smallest size filtered to signalling (`signalling`: no RTP, as `port 5060` takes it),
//! whose answered calls all come to one finding: that finding must not grow with them.
//! And 300,000 calls all rejected (`rejected`), also as a text report, which lists every
//! failed call: its verdicts must not all be held to be listed.
//!
//! And, when asked for (`paced`), the largest size over as many hours as it is times the
//! smallest: the same calls at the smallest size's rate, so that wall time can be told
//! apart by what grows with it, the capture's length or the calls in progress.
//!
//! On the sizes as they are, `analyze`, `calls`, `messages`, `media`, `flow` and
//! `extract` with `--call-id` of one call in the middle of the hour: a focus is read as a
//! stream too, its memory that of `analyze`. And `analyze` and `calls` with a `--since`
//! before the first call: a focus that selects every call, and keeps a little of each;
//! and the text report of `analyze --flow`, with the ladders of its first failed calls,
//! and `analyze --annotate`, which writes the capture again with the findings' comments,
//! and the HTML page (`analyze --format html`); and `analyze -` with the capture piped in
//! on standard input (`cat CAPTURE | sipdiag analyze -`), read as the file is; and
//! `analyze`, `calls` and `media` of the capture cut into a rotated set of four files
//! given together (`analyze (rotated set of 4)`, …), read as one stream as the file is;
//! `analyze` of the capture with the same packets seen at a second capture point
//! (`analyze (two capture points)`); `analyze --ipo-config` with an IP Office
//! configuration naming the four gateways, every INVITE replayed, and on the smallest
//! size `ipo-route` with it.
//!
//! `cargo bench --bench scale`; `SIPDIAG_SCALE_CALLS=100000` runs one size only
//! (`=registrations` the registrations only; the default is
//! `100000,1000000,registrations,signalling,rejected`; `paced` is not in it),
//! `SIPDIAG_BENCH_RUNS` (default 1) the runs per measurement (the best is kept).
//! Peak RSS is read from `/usr/bin/time -v` ("Maximum resident set size").

mod scale_gen;

#[path = "../common/mod.rs"]
mod common;
#[path = "../../tests/common/points.rs"]
mod points;
use common::target_dir;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Bumped whenever the generated traffic changes (the file name carries it).
const GENERATOR_VERSION: u32 = 1;
/// Seconds from answer to BYE: short calls.
const HOLD: u32 = 10;
const TARGET_RSS_MIB: f64 = 64.0;
/// A `--since` before the capture's first call: a focus that selects every call.
const SINCE_ALL: &str = "2000-01-01T00:00:00Z";

/// The capture of `calls` calls over an hour (`long_first`: the first answered one lasting
/// the hour; `rtp` false: filtered to signalling, as `tcpdump port 5060` would take it).
fn ensure(dir: &Path, calls: u32, long_first: bool, rtp: bool) -> PathBuf {
    ensure_over(dir, calls, 3600, long_first, rtp)
}

/// The capture of `calls` calls over `duration` seconds (see [`ensure`]).
fn ensure_over(dir: &Path, calls: u32, duration: u32, long_first: bool, rtp: bool) -> PathBuf {
    let long = if long_first { "-long" } else { "" };
    let signalling = if rtp { "" } else { "-signalling" };
    let over = if duration == 3600 {
        String::new()
    } else {
        format!("-{duration}s-long-capture")
    };
    let path = dir.join(format!(
        "scale-v{GENERATOR_VERSION}-{calls}calls-{HOLD}s{long}{signalling}{over}.pcap"
    ));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let start = Instant::now();
        let mut f = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        let w = scale_gen::write_with(
            &mut f,
            scale_gen::Scale {
                calls,
                duration,
                hold: HOLD,
                long_first,
            },
            rtp,
        )
        .expect("write capture");
        drop(f);
        std::fs::rename(&tmp, &path).unwrap();
        println!(
            "generated {} ({} packets, {} SIP, {} rejected) in {:.1} s",
            path.display(),
            w.packets,
            w.sip,
            w.rejected,
            start.elapsed().as_secs_f64()
        );
    }
    path
}

/// Calls of the capture whose every call is rejected.
const REJECTED_CALLS: u32 = 300_000;

/// An hour of [`REJECTED_CALLS`] calls, every one rejected with 503.
fn ensure_rejected(dir: &Path) -> PathBuf {
    let path = dir.join(format!(
        "scale-v{GENERATOR_VERSION}-{REJECTED_CALLS}calls-rejected.pcap"
    ));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut f = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        let s = scale_gen::Scale {
            calls: REJECTED_CALLS,
            duration: 3600,
            hold: HOLD,
            long_first: false,
        };
        let w = scale_gen::write_rejected(&mut f, s).expect("write capture");
        drop(f);
        std::fs::rename(&tmp, &path).unwrap();
        println!("generated {} ({} packets)", path.display(), w.packets);
    }
    path
}

/// Phones, seconds and refresh period of the registrations capture.
const REGISTRATIONS: (u32, u32, u32) = (500, 86_400, 300);

fn ensure_registrations(dir: &Path) -> PathBuf {
    let (phones, duration, refresh) = REGISTRATIONS;
    let path = dir.join(format!(
        "scale-v{GENERATOR_VERSION}-registrations-{phones}x{duration}s-{refresh}s.pcap"
    ));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut f = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        let w = scale_gen::write_registrations(&mut f, phones, duration, refresh)
            .expect("write capture");
        drop(f);
        std::fs::rename(&tmp, &path).unwrap();
        println!("generated {} ({} packets)", path.display(), w.packets);
    }
    path
}

/// The capture at `path` (a little-endian classic pcap, as generated) as a rotated set of
/// `parts` files of as many packets each (as `editcap -c` or `tcpdump -C` would cut it),
/// written beside it once.
fn rotated(path: &Path, parts: usize) -> Vec<PathBuf> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 name");
    let names: Vec<PathBuf> = (1..=parts)
        .map(|k| path.with_file_name(format!("{stem}-rotated-{k}of{parts}.pcap")))
        .collect();
    if names.iter().all(|n| n.exists()) {
        return names;
    }
    let data = std::fs::read(path).expect("read the capture");
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    // Where each record starts.
    let mut starts = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        starts.push(off);
        off += 16 + u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
    }
    starts.push(data.len().min(off));
    let per = (starts.len() - 1).div_ceil(parts);
    for (k, name) in names.iter().enumerate() {
        let (from, to) = (k * per, ((k + 1) * per).min(starts.len() - 1));
        let mut file = data[..24].to_vec();
        file.extend_from_slice(&data[starts[from]..starts[to]]);
        std::fs::write(name, file).expect("write a rotated file");
    }
    println!("cut {} into {parts} rotated files", path.display());
    names
}

/// The capture at `path` as seen at a second capture point (`points::second_point`),
/// written beside it once.
fn second_point(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 name");
    let name = path.with_file_name(format!("{stem}-second-point.pcap"));
    if name.exists() {
        return name;
    }
    let data = std::fs::read(path).expect("read the capture");
    let out = points::second_point(&data);
    std::fs::write(&name, out).expect("write the second capture point");
    println!("wrote {} as a second capture point", name.display());
    name
}

/// (wall seconds, peak RSS MiB) of one run, from `/usr/bin/time -v`.
fn measure(exe: &Path, args: &[&str], capture: &Path) -> (f64, f64) {
    measure_files(exe, args, std::slice::from_ref(&capture.to_path_buf()))
}

/// [`measure`] of a command given several capture files.
fn measure_files(exe: &Path, args: &[&str], captures: &[PathBuf]) -> (f64, f64) {
    let capture = &captures[0];
    let mut time = Command::new("/usr/bin/time");
    time.arg("-v").arg(exe).args(args);
    // `-` last: the capture comes through a pipe on standard input (`cat CAPTURE |`).
    let mut cat = None;
    if args.last() == Some(&"-") {
        let mut c = Command::new("cat")
            .arg(capture)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run cat");
        time.stdin(c.stdout.take().expect("cat's output"));
        cat = Some(c);
    } else {
        time.args(captures);
    }
    let out = time
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run /usr/bin/time (Debian package time)");
    if let Some(mut c) = cat {
        c.wait().expect("cat ends");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "sipdiag {args:?} failed: {err}"
    );
    let field = |name: &str| {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name:?} in /usr/bin/time's output:\n{err}"))
            .to_string()
    };
    let kib: f64 = field("Maximum resident set size (kbytes):")
        .parse()
        .unwrap();
    // h:mm:ss or m:ss.ss
    let wall: f64 = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .split(':')
        .fold(0.0, |acc, p| acc * 60.0 + p.parse::<f64>().unwrap());
    (wall, kib / 1024.0)
}

fn main() {
    let runs: usize = std::env::var("SIPDIAG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let asked = std::env::var("SIPDIAG_SCALE_CALLS")
        .unwrap_or_else(|_| "100000,1000000,registrations,signalling,rejected".into());
    let asked: Vec<&str> = asked.split(',').map(str::trim).collect();
    let sizes: Vec<u32> = asked.iter().filter_map(|s| s.parse().ok()).collect();
    let dir = target_dir().join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_sipdiag"));
    let commands: [(&str, &[&str]); 5] = [
        ("messages", &["messages", "--format", "json"]),
        ("calls", &["calls", "--format", "json"]),
        ("analyze", &["analyze", "--format", "json"]),
        ("media", &["media", "--format", "json"]),
        ("watch", &["watch", "--format", "json"]),
    ];
    println!(
        "sipdiag scale benchmark (best of {runs} run(s)); target peak RSS ≤ {TARGET_RSS_MIB} MiB, analyze ≤ 2× messages"
    );
    println!();
    println!("| calls | capture | command | wall s | peak RSS MiB | × messages |");
    println!("|---|---|---|---|---|---|");
    // Each size as it is, and the smallest with its first call lasting the hour: every
    // row after that call's waits for it, which must not bring memory back.
    let mut runs_of: Vec<(u32, bool)> = sizes.iter().map(|&n| (n, false)).collect();
    if let Some(&n) = sizes.iter().min() {
        runs_of.push((n, true));
    }
    let mut captures: Vec<(String, PathBuf)> = runs_of
        .into_iter()
        .map(|(n, long_first)| {
            let label = if long_first {
                format!("{n} + long")
            } else {
                n.to_string()
            };
            (label, ensure(&dir, n, long_first, true))
        })
        .collect();
    // The smallest without its RTP: a capture filtered to signalling, whose calls all
    // come to one SP003 finding.
    if asked.contains(&"signalling")
        && let Some(&n) = sizes.iter().min()
    {
        captures.push((format!("{n} signalling"), ensure(&dir, n, false, false)));
    }
    // The largest size at the smallest one's rate (`paced`): as many calls, over as many
    // hours as it is times the smallest, so that as few are in progress at once. Its wall
    // time against the smallest's shows what grows with the capture's length, and against
    // the largest's (as many calls in an hour) what grows with the calls in progress.
    if asked.contains(&"paced")
        && let (Some(&small), Some(&large)) = (sizes.iter().min(), sizes.iter().max())
        && large > small
    {
        let hours = large / small;
        captures.push((
            format!("{large} over {hours} h"),
            ensure_over(&dir, large, 3600 * hours, false, true),
        ));
    }
    if asked.contains(&"registrations") {
        captures.push(("registrations".into(), ensure_registrations(&dir)));
    }
    // Every call rejected: each is a failed verdict, listed by the text report too.
    if asked.contains(&"rejected") {
        captures.push((format!("{REJECTED_CALLS} rejected"), ensure_rejected(&dir)));
    }
    let ipo_config = ipo_config(&dir);
    let ipo_config = ipo_config.to_str().expect("a UTF-8 path");
    let extract_path = dir.join("scale-extract.pcapng");
    let annotate_path = dir.join("scale-annotated.pcapng");
    let html_path = dir.join("scale-report.html");
    for (label, cap) in captures {
        let mb = std::fs::metadata(&cap).unwrap().len() as f64 / 1e6;
        let mut messages_wall = None;
        // On the sizes as they are: one call in the middle of the hour, as a ticket asks
        // about it (a focus, and its ladder), read as a stream.
        let middle = label.parse::<u32>().ok().map(|n| scale_gen::call_id(n / 2));
        let extract_out = extract_path.to_str().expect("a UTF-8 path");
        let annotate_out = annotate_path.to_str().expect("a UTF-8 path");
        let html_out = html_path.to_str().expect("a UTF-8 path");
        let focused: Vec<(&str, Vec<&str>)> = match &middle {
            Some(id) => vec![
                (
                    "analyze --call-id",
                    vec!["analyze", "--format", "json", "--call-id", id],
                ),
                (
                    "calls --call-id",
                    vec!["calls", "--format", "json", "--call-id", id],
                ),
                (
                    "messages --call-id",
                    vec!["messages", "--format", "json", "--call-id", id],
                ),
                (
                    "media --call-id",
                    vec!["media", "--format", "json", "--call-id", id],
                ),
                ("flow --call-id", vec!["flow", "--call-id", id]),
                (
                    "extract --call-id",
                    vec!["extract", "-o", extract_out, "--call-id", id],
                ),
                // The text report with the ladders of its first failed calls.
                ("analyze --flow", vec!["analyze", "--flow"]),
                // The capture written again with the findings' comments.
                (
                    "analyze --annotate",
                    vec!["analyze", "--format", "json", "--annotate", annotate_out],
                ),
                // The HTML page, with the ladders of its first failed calls.
                (
                    "analyze --format html",
                    vec!["analyze", "--format", "html", "-o", html_out],
                ),
                // The capture piped in on standard input (copied for a second reading).
                (
                    "analyze - (piped)",
                    vec!["analyze", "--format", "json", "-"],
                ),
                // A focus that selects every call: what it keeps of each call shown.
                (
                    "analyze --since (all)",
                    vec!["analyze", "--format", "json", "--since", SINCE_ALL],
                ),
                (
                    "calls --since (all)",
                    vec!["calls", "--format", "json", "--since", SINCE_ALL],
                ),
                // Every INVITE replayed against an IP Office configuration naming the
                // four gateways (each call holds its session until its BYE or 503).
                (
                    "analyze --ipo-config",
                    vec!["analyze", "--format", "json", "--ipo-config", ipo_config],
                ),
            ],
            None => Vec::new(),
        };
        // `ipo-route` writes its rows (about 2 KB of JSON each, with their traces) at the
        // end: on the smallest size only.
        let ipo_route: Vec<(&str, Vec<&str>)> = match &middle {
            Some(_) if label == sizes.iter().min().map(u32::to_string).unwrap_or_default() => {
                vec![(
                    "ipo-route",
                    vec!["ipo-route", "--format", "json", "--config", ipo_config],
                )]
            }
            _ => Vec::new(),
        };
        let focused = focused.into_iter().chain(ipo_route).collect::<Vec<_>>();
        let text: &[(&str, &[&str])] = if label.ends_with("rejected") {
            &[("analyze (text)", &["analyze"])]
        } else {
            &[]
        };
        let focused = focused.iter().map(|(n, a)| (*n, a.as_slice()));
        for (name, args) in commands
            .iter()
            .copied()
            .chain(text.iter().copied())
            .chain(focused)
        {
            let (wall, rss) = best_of(runs, || measure(&exe, args, &cap));
            let base = *messages_wall.get_or_insert(wall);
            print_row(&label, mb, name, (wall, rss), base);
        }
        // On the sizes as they are: the capture as a rotated set of four files given
        // together, read as one stream as the file is.
        if middle.is_some() {
            let parts = rotated(&cap, 4);
            for command in ["analyze", "calls", "media"] {
                let args = [command, "--format", "json"];
                let (wall, rss) = best_of(runs, || measure_files(&exe, &args, &parts));
                let base = messages_wall.unwrap_or(wall);
                let name = format!("{command} (rotated set of 4)");
                print_row(&label, mb, &name, (wall, rss), base);
            }
            // The capture and the same packets seen at a second capture point.
            let two_points = [cap.clone(), second_point(&cap)];
            let args = ["analyze", "--format", "json"];
            let (wall, rss) = best_of(runs, || measure_files(&exe, &args, &two_points));
            let base = messages_wall.unwrap_or(wall);
            print_row(
                &label,
                mb,
                "analyze (two capture points)",
                (wall, rss),
                base,
            );
        }
    }
}

/// `testdata/ipoffice/example.toml` with the four gateways as the IP Office's addresses
/// (`[system] addresses`), written to `dir`.
fn ipo_config(dir: &Path) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ipoffice/example.toml");
    let text = std::fs::read_to_string(example).expect("testdata/ipoffice/example.toml");
    let gateways: Vec<String> = (scale_gen::GATEWAYS.iter())
        .map(|[a, b, c, d]| format!("\"{a}.{b}.{c}.{d}\""))
        .collect();
    let configured = format!("addresses = [{}]", gateways.join(", "));
    let text = text.replace("addresses = [\"127.0.0.10\"]", &configured);
    assert!(
        text.contains(&configured),
        "example.toml names its addresses so"
    );
    let path = dir.join("scale-ipo.toml");
    std::fs::write(&path, text).expect("write the IP Office configuration");
    path
}

/// The least wall time and the largest peak RSS of `runs` runs of `run`.
fn best_of(runs: usize, mut run: impl FnMut() -> (f64, f64)) -> (f64, f64) {
    (0..runs).fold((f64::MAX, 0.0f64), |(wall, rss), _| {
        let (w, r) = run();
        (wall.min(w), rss.max(r))
    })
}

/// A row of the table: the capture, the command, its wall time and peak RSS, and its
/// wall time against `messages`' (`base`).
fn print_row(label: &str, mb: f64, name: &str, (wall, rss): (f64, f64), base: f64) {
    println!(
        "| {label} | {mb:.0} MB | {name} | {wall:.2} | {rss:.0}{} | {:.2} |",
        if rss > TARGET_RSS_MIB { " (over)" } else { "" },
        wall / base
    );
}
