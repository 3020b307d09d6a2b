//! The XccDiversionPattern dialect: the first line is a current pattern value, each
//! further line either a rewrite (`REGEX=>REPLACEMENT`, as `pattern test --rewrite` takes)
//! or an observed number; rewrites are parsed and applied, the candidate pattern written
//! and the numbers proved against a site profile, as FM002 and `pattern test` do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipdiag::numbers::pattern::{self, Rewrite};
use sipdiag::numbers::{Site, classify};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let current = lines.next();
    let (mut rewrites, mut numbers) = (Vec::new(), Vec::new());
    for l in lines {
        match Rewrite::parse(l) {
            Ok(r) => {
                let _ = r.apply(current.unwrap_or_default());
                rewrites.push(r);
            }
            Err(_) => numbers.push(l.to_string()),
        }
    }
    let _ = pattern::xcc_diversion_pattern(current, &rewrites);
    let site = Site {
        country_code: Some("49".into()),
        area_code: Some("30".into()),
        internal_length: Some(3),
        outside_prefix: Some("0".into()),
        ..Site::default()
    };
    for n in &numbers {
        let c = classify(n, &site);
        if let Some(r) = pattern::rewrite_for(&c, &site) {
            rewrites.push(r);
        }
    }
    let _ = pattern::prove(&rewrites, &numbers, &site);
});
