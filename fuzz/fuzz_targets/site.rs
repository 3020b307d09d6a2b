//! The site file (`--site`, TOML) as `sipdiag pattern test --site FILE` reads it, with a
//! few numbers classified against the profile it gives.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("site.toml", data);
    common::run(&[
        "pattern",
        "test",
        "--site",
        &path,
        "--rewrite",
        r"^00(\d+)$=>+$1",
        "--value",
        "004930123456",
        "--value",
        "030123456",
        "--value",
        "<sip:123@pbx>",
        "--format",
        "json",
    ]);
});
