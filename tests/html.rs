//! `analyze --format html` and `-o`: the page's content, its escaping of capture text, and
//! the page as headless Chromium renders it (DOM and screenshot).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{piped_into, sipdiag, stdout, testdata, tsv};

const FM006: &str = "followme/fm006-second-leg-404.pcap";
const FM007: &str = "followme/fm007-second-leg-488.pcap";

/// A fresh directory under the target directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("html-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn html_of(capture: &Path) -> String {
    let o = sipdiag(&[
        "analyze",
        "--format",
        "html",
        "--fail-on",
        "none",
        &capture.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    stdout(&o)
}

/// The tshark oracle's messages of a capture (frame, Call-ID), from its `.sip.tsv`.
fn oracle(capture: &str) -> Vec<(u64, String)> {
    let tsv_path = testdata(&capture.replace(".pcap", ".sip.tsv"));
    tsv(
        &tsv_path,
        "frame\ttime\tsrc\tdst\ttransport\tmessage\tcseq\tcall_id",
    )
    .into_iter()
    .map(|r| (r[0].parse().unwrap(), r[7].clone()))
    .collect()
}

/// The values of `attr="…"` on the elements whose markup starts with `start`.
fn attr_values(html: &str, start: &str, attr: &str) -> Vec<String> {
    html.split(start)
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            let at = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
            Some(tag[at..at + tag[at..].find('"')?].to_string())
        })
        .collect()
}

#[test]
fn page_holds_findings_proof_filter_and_one_arrow_per_message_of_the_pair() {
    for capture in [FM006, FM007] {
        let html = html_of(&testdata(capture));
        let json: serde_json::Value = serde_json::from_str(&stdout(&sipdiag(&[
            "analyze",
            "-f",
            "json",
            &testdata(capture).display().to_string(),
        ])))
        .unwrap();
        for f in json["findings"].as_array().unwrap() {
            let id = f["id"].as_str().unwrap();
            assert!(
                html.contains(&format!("<span class=\"rule\">{id}</span>")),
                "{id}"
            );
            for q in f["proof"].as_array().unwrap() {
                let line = q["line"].as_str().unwrap();
                let line = line
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;");
                assert!(html.contains(&format!("<code>{line}</code>")), "{line}");
            }
        }
        // One arrow per SIP message of the two legs, as tshark lists them.
        let frames: Vec<u64> = attr_values(&html, "<g class=\"msg", "data-frame")
            .iter()
            .map(|f| f.parse().unwrap())
            .collect();
        let expected: Vec<u64> = oracle(capture).iter().map(|(f, _)| *f).collect();
        assert_eq!(frames, expected, "{capture}");
        // Every arrow links to its message's full text, read from the capture.
        for f in &frames {
            assert!(html.contains(&format!("<details id=\"l1-f{f}\"")), "{f}");
        }
        assert!(!html.contains("Full text not available"), "{capture}");
    }
}

#[test]
fn output_flag_writes_any_format_to_the_file() {
    let dir = scratch("output");
    let cap = testdata(FM006).display().to_string();
    for format in ["table", "json", "markdown", "html"] {
        let file = dir.join(format!("report.{format}"));
        let to_file = sipdiag(&[
            "analyze",
            "-f",
            format,
            "-o",
            &file.display().to_string(),
            &cap,
        ]);
        assert_eq!(
            to_file.status.code(),
            Some(1),
            "{format}: FM006 is an error"
        );
        assert!(
            to_file.stdout.is_empty(),
            "{format}: nothing on standard output"
        );
        let to_stdout = sipdiag(&["analyze", "-f", format, &cap]);
        assert_eq!(std::fs::read(&file).unwrap(), to_stdout.stdout, "{format}");
    }
    let bad = sipdiag(&["analyze", "-o", "/nonexistent-dir/r.html", &cap]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("/nonexistent-dir/r.html: cannot write the report"),
        "{err}"
    );
}

/// Two captures are read merged (frames numbered through the merged stream): each
/// arrow's text is read again from its own file, at that file's frame number.
#[test]
fn message_texts_come_from_the_file_of_their_call() {
    let o = sipdiag(&[
        "analyze",
        "-f",
        "html",
        &testdata(FM006).display().to_string(),
        &testdata(FM007).display().to_string(),
    ]);
    let html = stdout(&o);
    let first_lines: Vec<&str> = html
        .match_indices("<details id=\"l")
        .map(|(start, _)| {
            let pre = start + html[start..].find("<pre>").unwrap() + 5;
            &html[pre..pre + html[pre..].find("\r\n").unwrap()]
        })
        .collect();
    // The PBX's rejection of each capture's second leg, each from its own file.
    assert!(
        first_lines.contains(&"SIP/2.0 404 Not Found"),
        "{first_lines:?}"
    );
    assert!(
        first_lines.contains(&"SIP/2.0 488 Not Acceptable Here"),
        "{first_lines:?}"
    );
    assert!(!html.contains("Full text not available"));
    assert_eq!(
        html.matches("<g class=\"msg").count(),
        oracle(FM006).len() + oracle(FM007).len()
    );
    assert_eq!(first_lines.len(), oracle(FM006).len() + oracle(FM007).len());
}

#[test]
fn ipo_route_refuses_html() {
    let o = sipdiag(&[
        "ipo-route",
        "--config",
        &testdata("ipoffice/example.toml").display().to_string(),
        "-f",
        "html",
        &testdata("ipoffice/ipo-busy-486.pcap").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only `sipdiag analyze` writes HTML"), "{err}");
}

/// Standard input is read a second time from its copy for the message texts: the page
/// of the file. Held whole (`--in-memory`), it is read once: the ladder comes without them.
#[test]
fn standard_input_gets_its_message_texts_from_its_copy() {
    let path = testdata(FM006);
    let piped = |flags: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipdiag"));
        cmd.args(["analyze", "-f", "html"]).args(flags).arg("-");
        stdout(&piped_into(&mut cmd, &path))
    };
    let p = path.to_str().unwrap();
    let file = stdout(&sipdiag(&["analyze", "-f", "html", p])).replace(p, "-");
    let html = piped(&[]);
    assert_eq!(html.matches("<g class=\"msg").count(), oracle(FM006).len());
    assert!(!html.contains("cannot be read a second time"));
    assert_eq!(html, file);
    let held = piped(&["--in-memory"]);
    assert_eq!(held.matches("<g class=\"msg").count(), oracle(FM006).len());
    assert!(held.contains("cannot be read a second time"), "{held}");
}

/// A pcap (Ethernet, IPv4, UDP) of `messages`, each (src, dst, text), one per frame.
fn write_pcap(path: &Path, messages: &[(&str, &str, String)]) {
    let mut out: Vec<u8> = Vec::new();
    // Magic, version 2.4 (two u16: 2 then 4), zone, sigfigs, snaplen, linktype Ethernet.
    for v in [0xa1b2c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, (src, dst, text)) in messages.iter().enumerate() {
        let (src, dst): (std::net::SocketAddrV4, std::net::SocketAddrV4) =
            (src.parse().unwrap(), dst.parse().unwrap());
        let udp_len = 8 + text.len();
        let ip_len = 20 + udp_len;
        let mut ip = vec![0x45, 0, (ip_len >> 8) as u8, ip_len as u8, 0, i as u8, 0, 0];
        ip.extend_from_slice(&[64, 17, 0, 0]);
        ip.extend_from_slice(&src.ip().octets());
        ip.extend_from_slice(&dst.ip().octets());
        let sum = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum::<u32>();
        let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&src.port().to_be_bytes());
        frame.extend_from_slice(&dst.port().to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(text.as_bytes());
        for v in [
            1_700_000_000 + i as u32,
            0,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}

const EVIL: &str = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>";

/// An INVITE whose headers and whose rejection's reason phrase carry markup.
fn hostile_capture(dir: &Path) -> PathBuf {
    let call = "evil-1@127.0.0.10";
    let head = format!(
        "Via: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK-1\r\nFrom: \"{EVIL}\" <sip:+4915112345678@127.0.0.10>;tag=1\r\n\
         To: <sip:799@127.0.0.20>\r\nCall-ID: {call}\r\nCSeq: 1 INVITE\r\n"
    );
    let invite = format!(
        "INVITE sip:799@127.0.0.20 SIP/2.0\r\n{head}Max-Forwards: 70\r\nX-Note: {EVIL}\r\n\
         User-Agent: {EVIL}\r\nContact: <sip:127.0.0.10:5060>\r\nContent-Length: 0\r\n\r\n"
    );
    let reject = format!(
        "SIP/2.0 503 Down {EVIL}\r\n{head}Warning: 399 x \"{EVIL}\"\r\nContent-Length: 0\r\n\r\n"
    );
    let path = dir.join("hostile.pcap");
    write_pcap(
        &path,
        &[
            ("127.0.0.10:5060", "127.0.0.20:5060", invite),
            ("127.0.0.20:5060", "127.0.0.10:5060", reject),
        ],
    );
    path
}

#[test]
fn markup_from_the_capture_is_text_not_markup() {
    let dir = scratch("hostile");
    let cap = hostile_capture(&dir);
    let html = html_of(&cap);
    // The page's own script is the only one; the capture's markup is escaped everywhere.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    // It reached the verdict, the ladder (label and message text) and the proof.
    assert!(html.contains("503 Down &lt;script&gt;"), "{html}");
    assert!(html.contains("X-Note: &lt;script&gt;"), "{html}");
    assert_eq!(html.matches("<g class=\"msg").count(), 2);
    let Some(dom) = chromium_dom(&dir, &dir.join("hostile.html"), &html) else {
        return;
    };
    // Chromium ran the page: its title is the one sipdiag wrote, no element came from the
    // capture, and the page's script ran (the copy buttons are shown).
    assert!(dom.contains("<title>sipdiag report: "), "{dom}");
    assert!(!dom.contains("pwned</title>"), "{dom}");
    assert!(!dom.contains("<img"), "{dom}");
    assert_eq!(dom.matches("<script").count(), 1);
}

/// `/usr/bin/chromium` (or `chromium` on the PATH), or `None` after printing SKIPPED.
fn chromium() -> Option<PathBuf> {
    let candidates = [PathBuf::from("/usr/bin/chromium")];
    let found = candidates.into_iter().find(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromium"))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        eprintln!("SKIPPED: chromium not found");
    }
    found
}

/// Runs headless Chromium with `args` and the page, with a fresh profile; stdout.
fn run_chromium(dir: &Path, page: &Path, fragment: &str, args: &[String]) -> Option<Vec<u8>> {
    let bin = chromium()?;
    let profile = dir.join(format!("profile-{}", args.len()));
    let _ = std::fs::remove_dir_all(&profile);
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}{fragment}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("chromium did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(reader.join().unwrap().unwrap())
}

/// Writes `html` to `page` and returns the DOM Chromium builds of it (scripts run).
fn chromium_dom(dir: &Path, page: &Path, html: &str) -> Option<String> {
    std::fs::write(page, html).unwrap();
    let out = run_chromium(dir, page, "", &["--dump-dom".to_string()])?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn chromium_shows_findings_and_the_ladder_and_takes_a_screenshot() {
    let dir = scratch("chromium");
    let html = html_of(&testdata(FM006));
    let page = dir.join("fm006.html");
    let Some(dom) = chromium_dom(&dir, &page, &html) else {
        return;
    };
    assert!(dom.contains("<span class=\"rule\">FM006</span>"), "{dom}");
    assert!(dom.contains("<code>SIP/2.0 404 Not Found</code>"), "{dom}");
    // As many message arrows as tshark counts messages of the two legs.
    let arrows = attr_values(&dom, "<g class=\"msg", "data-frame");
    assert_eq!(arrows.len(), oracle(FM006).len(), "{dom}");
    // The script ran: the copy buttons are shown.
    let buttons = dom
        .matches("<button type=\"button\" class=\"copy\"")
        .count();
    assert!(buttons >= 1);
    assert_eq!(
        dom.matches("class=\"copy\" data-copy=\"filter-1-1\" hidden")
            .count(),
        0
    );

    // An arrow links to its message, whose text the page's script then opens.
    let target = run_chromium(&dir, &page, "#l1-f6", &["--dump-dom".to_string()])
        .expect("chromium was found above");
    let target = String::from_utf8_lossy(&target);
    assert!(
        target.contains("<details id=\"l1-f6\" class=\"sip evidence\" open=\"\">"),
        "{target}"
    );
    assert!(target.contains("SIP/2.0 404 Not Found\nVia: "), "{target}");
    assert!(
        target.contains("<a href=\"#l1-f6\"><g class=\"msg evidence response\" data-frame=\"6\"")
    );

    let shot = dir.join("fm006.png");
    run_chromium(
        &dir,
        &page,
        "",
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600".to_string(),
        ],
    )
    .expect("chromium was found above");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 1600));
    // A blank page compresses to a few kilobytes; text, tables and the ladder do not.
    assert!(png.len() > 50_000, "{} bytes", png.len());
}

/// The README's gallery: each text block is `$ sipdiag ARGS` and what that prints today (at
/// the 100 columns `testdata/gallery/make.sh` uses); the screenshot it shows is a PNG.
#[test]
fn readme_gallery_is_current() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    for name in ["analyze", "flow"] {
        let open = format!("<!-- gallery:{name} -->\n```text\n");
        let close = format!("```\n<!-- /gallery:{name} -->");
        let start = readme.find(&open).expect("gallery block in the README") + open.len();
        let len = readme[start..].find(&close).expect("end of the block");
        let (command, shown) = readme[start..start + len].split_once('\n').unwrap();
        let args: Vec<&str> = command
            .strip_prefix("$ sipdiag ")
            .expect("a sipdiag command line")
            .split_whitespace()
            .collect();
        assert!(!args.is_empty() && !shown.is_empty(), "{name}");
        let o = Command::new(env!("CARGO_BIN_EXE_sipdiag"))
            .args(&args)
            .current_dir(common::root())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(
            shown == stdout(&o),
            "the README's gallery block {name:?} differs from today's output; run testdata/gallery/make.sh\n{}",
            stdout(&o)
        );
    }
    let png = "testdata/gallery/report.png";
    assert!(readme.contains(&format!("]({png})")));
    let bytes = std::fs::read(common::root().join(png)).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}
