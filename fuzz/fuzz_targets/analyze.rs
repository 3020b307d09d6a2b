//! The whole reader, as `sipdiag analyze FILE` runs it: bytes → frames → packets → SIP
//! messages → calls and media → findings → report. The input is the capture file itself
//! (pcap, pcapng, gzip: seeds are the fixtures in testdata/); its length picks the report
//! format, whether ladders are drawn, whether the caps are small (an input of 256 KB never
//! holds the default 20,000 calls, so what happens at `--max-calls` would not be reached)
//! and whether the file is read twice as two capture points merged.
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
    common::run(&args);
});
