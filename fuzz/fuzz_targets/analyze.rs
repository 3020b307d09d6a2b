//! The whole reader, as `sipdiag analyze FILE` runs it: bytes → frames → packets → SIP
//! messages → calls and media → findings → report. The input is the capture file itself
//! (pcap, pcapng, gzip: seeds are the fixtures in testdata/); its length picks the report
//! format, whether ladders are drawn, whether the caps are small (an input of 256 KB never
//! holds the default 20,000 calls, so what happens at `--max-calls` would not be reached),
//! whether the file is read twice as two capture points merged, and whether a focus that
//! selects every call is given (then `calls` lists them too, its selection read as a
//! stream).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("analyze", data);
    let format = ["table", "json", "markdown"][data.len() % 3];
    let mut args = vec![
        "analyze",
        path.as_str(),
        "--format",
        format,
        "--color",
        "never",
    ];
    if data.len() % 2 == 1 {
        args.push("--flow");
    }
    if data.len() % 5 == 0 {
        args.extend(["--max-calls", "2", "--max-sdp-announcements", "4"]);
    }
    if data.len() % 7 == 0 {
        // Every packet seen at both points: the merged read counts each once.
        args.push(path.as_str());
    }
    let focus = data.len() % 11 < 2;
    if focus {
        args.extend(["--since", "2000-01-01T00:00:00Z"]);
    }
    common::run(&args);
    if focus {
        common::run(&["calls", path.as_str(), "--since", "2000-01-01T00:00:00Z"]);
    }
});
