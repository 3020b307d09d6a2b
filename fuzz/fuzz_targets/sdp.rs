//! SDP: any body → `sip::sdp::parse` and the codec list the rules read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sdp = sipdiag::sip::sdp::parse(data);
    for m in &sdp.media {
        let _ = m.codecs();
    }
    let _ = format!("{sdp:?}");
});
