//! The whole reader, as `sipdiag analyze FILE` runs it: bytes → frames → packets → SIP
//! messages → calls and media → findings → report. The input is the capture file itself
//! (pcap, pcapng, gzip: seeds are the fixtures in testdata/); its length picks the report
//! format and whether ladders are drawn, so every renderer is reached.
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
    common::run(&args);
});
