//! Every finding's `wireshark_filter` is a filter Wireshark accepts, and it shows at least
//! the frames the finding cites: checked with tshark (the oracle) over every capture in
//! `testdata/` and in the public corpus (`../shared/captures`).
//!
//! `manners` pins the rest of what a support engineer copies or reads first: errors,
//! help, the site file and colour.
//!
//! One tshark per capture checks all of its filters at once: a Lua script registers one
//! tap per distinct filter (a tap with a filter Wireshark rejects fails to register, which
//! the script reports) and prints the frames each tap saw. When tshark has no Lua, each
//! filter gets its own tshark run. Captures are checked on a few threads in parallel.

mod common;
#[path = "filters/manners.rs"]
mod manners;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::{corpus, root, sipdiag};

/// Prints each tap's frames after the last packet (`draw`); reports a filter that fails to
/// register as INVALID with tshark's own message.
const CHECK_LUA: &str = r#"
local path = ...
local hits = {}
local n = 0
for line in io.lines(path) do
  n = n + 1
  local i = n
  local ok, tap = pcall(Listener.new, nil, line)
  if not ok then
    io.stdout:write("INVALID\t", i, "\t", (tostring(tap):gsub("%s+", " ")), "\n")
  else
    hits[i] = {}
    function tap.packet(pinfo) table.insert(hits[i], pinfo.number) end
    function tap.draw() io.stdout:write("HITS\t", i, "\t", table.concat(hits[i], " "), "\n") end
  end
end
"#;

/// The decode-as options the oracle scripts use for SIP on ports Wireshark does not
/// dissect as SIP by default (`testdata/*/oracle.sh`, `testdata/oracle/generate.sh`).
fn decode_as(path: &Path) -> Vec<&'static str> {
    let p = path.to_string_lossy();
    if p.contains("/testdata/followme/") {
        vec![
            "-d",
            "udp.port==5070,sip",
            "-d",
            "udp.port==5061,sip",
            "-d",
            "udp.port==5062,sip",
        ]
    } else if p.ends_with("/testdata/reader/sip-on-5080.pcap") {
        vec!["-d", "udp.port==5080,sip"]
    } else if p.ends_with("/testdata/reader/ws.pcap") {
        vec!["-d", "tcp.port==5066,http"]
    } else if p.ends_with("heplify/sip_ipv4_tcp_fragmented.pcap") {
        vec!["-d", "tcp.port==6060,sip"]
    } else {
        Vec::new()
    }
}

fn tshark_version() -> Option<String> {
    let o = Command::new("tshark").arg("-v").output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Every file below `dir` that may be a capture (sipdiag decides), sorted.
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_below(&p, out);
        } else {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let capture = [".pcap", ".pcapng", ".cap", ".gz"]
                .iter()
                .any(|ext| name.ends_with(ext));
            if capture {
                out.push(p);
            }
        }
    }
}

/// Distinct filters of one capture's findings, with every frame cited under each and the
/// rule ids using it.
type Filters = BTreeMap<String, (BTreeSet<u64>, BTreeSet<String>)>;

/// The findings of `analyze` on one capture, by filter; `None` when sipdiag cannot read it.
fn findings(path: &Path) -> Option<Filters> {
    let o = sipdiag(&[
        "analyze",
        "--format",
        "json",
        "--fail-on",
        "none",
        path.to_str()?,
    ]);
    if o.status.code() == Some(2) {
        return None;
    }
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("analyze JSON");
    let mut out = Filters::new();
    for f in v["findings"].as_array().expect("findings") {
        let filter = f["wireshark_filter"].as_str().expect("filter").to_string();
        let e = out.entry(filter).or_default();
        e.0.extend(
            f["frames"]
                .as_array()
                .expect("frames")
                .iter()
                .map(|n| n.as_u64().expect("frame number")),
        );
        e.1.insert(f["id"].as_str().expect("id").to_string());
    }
    Some(out)
}

/// What tshark says about each filter: `Err(message)` when it rejects it, else the frames
/// it shows.
fn tshark_verdicts(
    path: &Path,
    filters: &[&String],
    lua: bool,
    cfg: &Path,
) -> Vec<Result<BTreeSet<u64>, String>> {
    let base = |c: &mut Command| {
        c.env("WIRESHARK_CONFIG_DIR", cfg)
            .env("LC_ALL", "C")
            .arg("-n")
            .arg("-r")
            .arg(path)
            .args(decode_as(path));
    };
    if lua {
        let list = cfg.join(format!(
            "filters-{}.txt",
            path.to_string_lossy().replace(['/', '.'], "_")
        ));
        let text: String = filters.iter().map(|f| format!("{f}\n")).collect();
        std::fs::write(&list, text).expect("write filter list");
        let mut c = Command::new("tshark");
        base(&mut c);
        c.arg("-q")
            .arg("-X")
            .arg(format!("lua_script:{}", cfg.join("check.lua").display()))
            .arg("-X")
            .arg(format!("lua_script1:{}", list.display()));
        let o = c.output().expect("run tshark");
        let out = String::from_utf8_lossy(&o.stdout);
        let mut res: Vec<Result<BTreeSet<u64>, String>> =
            vec![Err("tshark printed nothing for this filter".into()); filters.len()];
        for line in out.lines() {
            let mut parts = line.splitn(3, '\t');
            let (Some(kind), Some(i), rest) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let Ok(i) = i.parse::<usize>() else { continue };
            let Some(slot) = res.get_mut(i.wrapping_sub(1)) else {
                continue;
            };
            *slot = match kind {
                "HITS" => Ok(rest
                    .unwrap_or("")
                    .split_whitespace()
                    .map(|n| n.parse().expect("frame number"))
                    .collect()),
                _ => Err(rest.unwrap_or("").to_string()),
            };
        }
        res
    } else {
        // The filter alone is judged on an empty capture (tshark also fails on a damaged
        // file, whatever the filter); the frames it shows come from the capture itself.
        let empty = cfg.join("empty.pcap");
        filters
            .iter()
            .map(|f| {
                let check = Command::new("tshark")
                    .env("WIRESHARK_CONFIG_DIR", cfg)
                    .arg("-n")
                    .arg("-r")
                    .arg(&empty)
                    .arg("-Y")
                    .arg(f.as_str())
                    .output()
                    .expect("run tshark");
                if !check.status.success() {
                    return Err(String::from_utf8_lossy(&check.stderr).into_owned());
                }
                let mut c = Command::new("tshark");
                base(&mut c);
                let o = c
                    .arg("-Y")
                    .arg(f.as_str())
                    .args(["-T", "fields", "-e", "frame.number"])
                    .output()
                    .expect("run tshark");
                Ok(String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(|n| n.parse().expect("frame number"))
                    .collect())
            })
            .collect()
    }
}

/// Checks every finding on every capture in `files`; returns the problems found and the
/// number of (capture, filter) pairs checked.
fn check_all(files: Vec<PathBuf>, lua: bool, cfg: &Path) -> (Vec<String>, usize) {
    let queue = Mutex::new(files);
    let problems = Mutex::new(Vec::new());
    let checked = Mutex::new(0usize);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(path) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let Some(by_filter) = findings(&path) else {
                        eprintln!("{}: not a readable capture, no findings", path.display());
                        continue;
                    };
                    let filters: Vec<&String> = by_filter.keys().collect();
                    if filters.is_empty() {
                        continue;
                    }
                    let verdicts = tshark_verdicts(&path, &filters, lua, cfg);
                    let mut mine = Vec::new();
                    for (f, verdict) in filters.iter().zip(verdicts) {
                        let (cited, ids) = &by_filter[*f];
                        let ids = ids.iter().cloned().collect::<Vec<_>>().join(",");
                        if f.is_empty() {
                            mine.push(format!("{}: {ids}: empty filter", path.display()));
                            continue;
                        }
                        match verdict {
                            Err(e) => mine.push(format!(
                                "{}: {ids}: tshark rejects `{f}`: {e}",
                                path.display()
                            )),
                            Ok(shown) => {
                                let missed: Vec<_> = cited.difference(&shown).collect();
                                if !missed.is_empty() {
                                    mine.push(format!(
                                        "{}: {ids}: `{f}` hides cited frames {missed:?}",
                                        path.display()
                                    ));
                                }
                            }
                        }
                    }
                    *checked.lock().unwrap() += filters.len();
                    problems.lock().unwrap().extend(mine);
                }
            });
        }
    });
    (
        problems.into_inner().unwrap(),
        checked.into_inner().unwrap(),
    )
}

fn run(files: Vec<PathBuf>, what: &str) -> Option<usize> {
    let Some(version) = tshark_version() else {
        eprintln!("SKIPPED: tshark is not installed; the {what} filter check needs it");
        return None;
    };
    let lua = version.contains("with Lua");
    let cfg = tempfile::tempdir().expect("temp dir");
    std::fs::write(cfg.path().join("check.lua"), CHECK_LUA).expect("write lua");
    // A pcap file header without packets (Ethernet), to judge a filter on its own.
    let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    header.extend([0u8; 8]);
    header.extend([0xff, 0xff, 0, 0, 1, 0, 0, 0]);
    std::fs::write(cfg.path().join("empty.pcap"), header).expect("write empty pcap");
    let (mut problems, checked) = check_all(files, lua, cfg.path());
    problems.sort();
    assert!(
        problems.is_empty(),
        "{} of {checked} filters fail on the {what}:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!("{checked} distinct filters checked on the {what}");
    Some(checked)
}

#[test]
fn filters_on_fixtures_are_valid_and_show_cited_frames() {
    let mut files = Vec::new();
    files_below(&root().join("testdata"), &mut files);
    assert!(files.len() > 30, "testdata captures found: {}", files.len());
    if let Some(checked) = run(files, "fixtures") {
        // Every rule fixture has at least one finding: the check cannot pass vacuously.
        assert!(checked > 30, "only {checked} filters checked");
    }
}

#[test]
fn filters_on_public_corpus_are_valid_and_show_cited_frames() {
    let Some(dir) = corpus() else { return };
    let mut files = Vec::new();
    files_below(&dir, &mut files);
    if let Some(checked) = run(files, "public corpus") {
        assert!(checked > 10, "only {checked} filters checked");
    }
}

#[test]
fn a_call_id_with_quote_and_backslash_is_escaped() {
    let p = common::testdata("followme/sip001-quoted-call-id.pcap");
    let o = sipdiag(&[
        "analyze",
        "--format",
        "json",
        "--fail-on",
        "none",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("analyze JSON");
    let f = &v["findings"];
    assert_eq!(f.as_array().map(Vec::len), Some(1), "{f:#}");
    assert_eq!(f[0]["id"], "SIP001");
    assert_eq!(
        f[0]["call_id"],
        r#"q"uo\te-8743f8f8547d6550b1019a5a@127.0.0.30"#
    );
    assert_eq!(f[0]["frames"], serde_json::json!([1, 2, 3, 4]));
    // `"` and `\` escaped; tshark's verdict on it is checked with all fixtures above.
    assert_eq!(
        f[0]["wireshark_filter"],
        r#"sip.Call-ID == "q\"uo\\te-8743f8f8547d6550b1019a5a@127.0.0.30""#
    );
}
