//! No input may crash sipdiag: mutated real captures (bit flips, truncations, garbage
//! insertions, absurd lengths) run through the whole pipeline without a panic, and every
//! one either reads (with anomalies) or is refused with a CaptureError.

mod common;

use std::io::Write;

use common::*;
use sipdiag::app::{self, Sink};
use sipdiag::media::{MediaSettings, MediaTracker};

/// xorshift64*: deterministic, so a failure is reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct Count(usize);

impl Sink for Count {
    fn message(&mut self, m: sipdiag::sip::SipMessage) {
        // Touch the typed views too: they must be total as well.
        let _ = (
            m.cseq(),
            m.from(),
            m.to(),
            m.vias(),
            m.diversion(),
            m.history_info(),
            m.sdp(),
        );
        self.0 += 1;
    }
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(20) {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
        }
        1 => v.truncate(rng.below(v.len())),
        2 => {
            let at = rng.below(v.len());
            let junk: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
            v.splice(at..at, junk);
        }
        3 => {
            // An absurd length field somewhere past the file header.
            let i = 24 + rng.below(v.len().saturating_sub(28));
            if i + 4 <= v.len() {
                v[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
            }
        }
        _ => {
            // Overwrite a run with "Content-Length: 999999999".
            let i = rng.below(v.len());
            let s = b"\r\nContent-Length: 999999999\r\n";
            for (k, b) in s.iter().enumerate() {
                if i + k < v.len() {
                    v[i + k] = *b;
                }
            }
        }
    }
    v
}

#[test]
fn mutated_captures_never_panic() {
    let fixtures = [
        "reader/udp-call.pcap",
        "reader/tcp-split.pcap",
        "reader/tcp-two-in-one.pcap",
        "reader/ipfrag-v4.pcap",
        "reader/ipfrag-v6.pcap",
        "reader/two-linktypes.pcapng",
        "reader/ws.pcap",
        "reader/vlan-qinq.pcap",
        "followme/healthy-history-info-tcp.pcap",
        "media/ice-one-way.pcap",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let dir = tempfile::tempdir().unwrap();
    let mut read = 0;
    for (n, f) in fixtures.iter().cycle().take(400).enumerate() {
        let base = std::fs::read(testdata(f)).unwrap();
        let bytes = mutate(&mut rng, &base);
        let path = dir.path().join(format!("m{n}.pcap"));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        // The whole input side of `analyze`: messages to the calls' sink, every other
        // packet (and each message's SDP) to the media tracker, then its report.
        let mut sink = Count(0);
        let mut media = MediaTracker::new(MediaSettings::default());
        if app::scan_with(path.to_str().unwrap(), &mut sink, &mut media).is_ok() {
            read += 1;
        }
        let _ = media.finish();
    }
    assert!(read > 200, "most mutations still read: {read}");
}

#[test]
fn random_bytes_are_refused_not_crashed() {
    let mut rng = Rng(42);
    let dir = tempfile::tempdir().unwrap();
    for n in 0..50 {
        let len = rng.below(5000);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of them get a valid pcap or pcapng magic so the reader goes deeper.
        if n % 2 == 0 && bytes.len() > 24 {
            bytes[..4].copy_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1]);
        } else if n % 3 == 0 && bytes.len() > 28 {
            bytes[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
        }
        let path = dir.path().join(format!("r{n}.pcap"));
        std::fs::write(&path, &bytes).unwrap();
        let mut media = MediaTracker::new(MediaSettings::default());
        let _ = app::scan_with(path.to_str().unwrap(), &mut Count(0), &mut media);
        let _ = media.finish();
    }
}
