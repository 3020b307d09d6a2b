//! Parsers are total: arbitrary bytes, and real inputs damaged at random, never panic and
//! never hang; a capture that cannot be read is an error naming its file.

use proptest::prelude::*;
use sipdiag::app;
use sipdiag::calls::CallSet;
use sipdiag::capture::Timestamp;
use sipdiag::media::{MediaSettings, MediaTracker, stun};
use sipdiag::net::Transport;
use sipdiag::sip::extract::sip_start;
use sipdiag::sip::message::{Provenance, RawMessage};
use sipdiag::sip::sdp;

use crate::common::{sipdiag, testdata};

/// Small fixtures of every container and link layer the reader knows.
const CAPTURES: &[&str] = &[
    "reader/udp-call.pcap",
    "reader/tcp-ooo-retrans.pcap",
    "reader/ipfrag-v6.pcap",
    "reader/nsec.pcap",
    "reader/bigendian.pcap",
    "reader/gzipped.pcap.gz",
    "reader/pcapng-records.pcapng",
    "reader/two-linktypes.pcapng",
    "reader/sll2.pcap",
    "reader/ws.pcap",
    "media/ice-ok-rtp.pcap",
];

/// One edit of a file: overwrite a run of bytes, cut the file, or insert bytes.
#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, Vec<u8>),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Edit::Overwrite(p, b)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Overwrite(p, b) => {
                for (i, x) in b.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut((p % n) + i) {
                        *slot = *x;
                    }
                }
            }
            Edit::Truncate(p) => bytes.truncate(p % n),
            Edit::Insert(p, b) => {
                let at = (p % n).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
        }
    }
    bytes
}

/// Reads the file as `analyze` does up to the calls and media: every stage, no report.
fn scan(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.pcap");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let mut calls = CallSet::default();
    let mut media = MediaTracker::new(MediaSettings::default());
    match app::scan_with(path, &mut calls, &mut media) {
        Ok(r) => {
            // A record takes at least 16 bytes (pcap) or 12 (pcapng), gzip aside.
            if !bytes.starts_with(&[0x1f, 0x8b]) {
                assert!(r.frames <= bytes.len() as u64 / 12, "{} frames", r.frames);
            }
            let _ = media.finish();
        }
        Err(e) => assert!(
            format!("{e:#}").contains(path),
            "error without its file: {e:#}"
        ),
    }
}

fn raw(data: &[u8], datagram: bool) -> Option<RawMessage<'_>> {
    Some(RawMessage {
        data,
        prov: Provenance {
            frame: 1,
            frames: Vec::new(),
            time: Timestamp::new(0, 0),
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
            transport: if datagram {
                Transport::Udp
            } else {
                Transport::Tcp
            },
        },
        datagram,
        cut: false,
        start: sip_start(data)?,
    })
}

/// Text that looks like SIP headers or SDP lines: names, separators, line ends, digits.
fn line_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"\r\n"[..]),
        Just(&b"\n"[..]),
        Just(&b": "[..]),
        Just(&b";"[..]),
        Just(&b","[..]),
        Just(&b"<sip:"[..]),
        Just(&b"@"[..]),
        Just(&b">"[..]),
        Just(&b"Via"[..]),
        Just(&b"Content-Length"[..]),
        Just(&b"Diversion"[..]),
        Just(&b"History-Info"[..]),
        Just(&b"CSeq"[..]),
        Just(&b"m=audio "[..]),
        Just(&b"a=rtpmap:"[..]),
        Just(&b"c=IN IP4 "[..]),
        Just(&b"a=candidate:"[..]),
        Just(&b" "[..]),
        Just(&b"4294967296"[..]),
        Just(&b"0"[..]),
        Just(&b"\xff\xfe"[..]),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(crate::config(48))]

    #[test]
    fn capture_reader_is_total_on_damaged_captures(
        which in 0..CAPTURES.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let bytes = std::fs::read(testdata(CAPTURES[which])).unwrap();
        scan(&apply(bytes, &edits));
    }

    #[test]
    fn capture_reader_is_total_on_arbitrary_bytes(
        head in prop_oneof![
            Just(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a]),
            Just(vec![0x1f, 0x8b, 8, 0]),
            Just(Vec::new()),
        ],
        tail in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        scan(&[head, tail].concat());
    }

    #[test]
    fn sip_parser_is_total(
        start in prop_oneof![
            Just(&b"INVITE sip:1@a SIP/2.0\r\n"[..]),
            Just(&b"SIP/2.0 404 Not Found\r\n"[..]),
            Just(&b"ACK sip:x SIP/2.0\n"[..]),
        ],
        rest in prop_oneof![line_soup(), prop::collection::vec(any::<u8>(), 0..400)],
        datagram in any::<bool>(),
    ) {
        let data = [start, &rest].concat();
        let m = raw(&data, datagram).expect("a SIP start line is recognised");
        let m = m.parse().expect("a message with a SIP start line parses");
        let _ = (m.from(), m.to(), m.vias(), m.cseq().is_some(), m.diversion(), m.history_info());
        let _ = (m.branch(), m.summary(), m.sdp().map(|s| s.media.len()));
    }

    #[test]
    fn sip_start_line_test_is_total(data in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Some(m) = raw(&data, true) {
            let _ = m.parse();
        }
    }

    #[test]
    fn sdp_parser_is_total(
        body in prop_oneof![line_soup(), prop::collection::vec(any::<u8>(), 0..400)],
    ) {
        let s = sdp::parse(&body);
        for m in &s.media {
            let _ = m.codecs();
        }
    }

    #[test]
    fn stun_parser_is_total(
        class in any::<u16>(),
        len in any::<u16>(),
        cookie in any::<bool>(),
        rest in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut data = (class & 0x3fff).to_be_bytes().to_vec();
        data.extend_from_slice(&(len & 0x1fc).to_be_bytes());
        if cookie {
            data.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        }
        data.extend_from_slice(&rest);
        for m in [stun::parse(&data), stun::parse_classic(&data)].into_iter().flatten() {
            let _ = m.describe();
        }
        let _ = stun::stream_start(&data);
        for framed in [false, true] {
            let mut buf = &data[..];
            loop {
                let step = match stun::next_in_stream(buf, framed) {
                    stun::StreamItem::Stun { skip, len } => skip + len,
                    stun::StreamItem::Other(n) => n,
                    stun::StreamItem::Incomplete | stun::StreamItem::Invalid => break,
                };
                prop_assert!(step > 0 && step <= buf.len());
                buf = &buf[step..];
            }
        }
    }
}

proptest! {
    // Each case runs the binary: fewer of them.
    #![proptest_config(crate::config(16))]

    /// A site file is read or refused with exit code 2 and a message naming it.
    #[test]
    fn site_file_is_read_or_refused_by_name(
        edits in prop::collection::vec(edit(), 1..5),
        soup in prop::option::of(prop::collection::vec(
            prop_oneof![
                Just("country_code = "), Just("\"49\""), Just("internal_length = "),
                Just("99999999999999999999"), Just("-1"), Just("server_media_ports = "),
                Just("\"70000-1\""), Just("known_users = ["), Just("]"), Just("\n"),
                Just("[x]"), Just("\"\\u0000\""), Just("'"),
            ],
            0..30,
        )),
    ) {
        let text = match soup {
            Some(parts) => parts.concat().into_bytes(),
            None => apply(std::fs::read(testdata("site.toml")).unwrap(), &edits),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, &text).unwrap();
        let path = path.to_str().unwrap();
        let out = sipdiag(&["pattern", "test", "--site", path, "--rewrite", r"^00(\d+)$=>+$1",
            "--value", "004930123456"]);
        let code = out.status.code();
        prop_assert!(code == Some(0) || code == Some(2), "exit {code:?}");
        if code == Some(2) {
            let err = String::from_utf8_lossy(&out.stderr);
            prop_assert!(err.contains(path), "error without the file: {err}");
        }
    }
}
