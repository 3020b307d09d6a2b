//! Unit tests of capture reading: frame numbering, truncation, oversized records and
//! blocks, files that are not captures, gzip.

use super::*;
use std::io::Write;

fn pcap_header(linktype: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    v
}

fn record(v: &mut Vec<u8>, sec: u32, data: &[u8]) {
    v.extend_from_slice(&sec.to_le_bytes());
    v.extend_from_slice(&7u32.to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
}

fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

fn pcapng_block(v: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let len = (12 + body.len().div_ceil(4) * 4) as u32;
    v.extend_from_slice(&block_type.to_le_bytes());
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(body);
    v.resize(v.len() + (4 - body.len() % 4) % 4, 0);
    v.extend_from_slice(&len.to_le_bytes());
}

fn epb(v: &mut Vec<u8>, data: &[u8]) {
    let mut body = Vec::with_capacity(20 + data.len());
    body.extend_from_slice(&0u32.to_le_bytes()); // interface
    body.extend_from_slice(&0u32.to_le_bytes()); // timestamp high
    body.extend_from_slice(&1u32.to_le_bytes()); // timestamp low
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    pcapng_block(v, 6, &body);
}

#[test]
fn valid_pcapng_block_over_the_buffer_is_skipped_not_called_damaged() {
    let mut v = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    pcapng_block(&mut v, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    pcapng_block(&mut v, 1, &idb);
    epb(&mut v, &[1; 60]);
    epb(&mut v, &vec![2; MAX_BLOCK + 4096]);
    epb(&mut v, &[3; 60]);
    let f = write_tmp(&v);
    let mut seen = Vec::new();
    let s = read_capture(f.path().to_str().unwrap(), |fr| {
        seen.push((fr.number, fr.data[0]))
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![(1, 1), (3, 3)],
        "the frame after the big one is read"
    );
    assert_eq!(s.frames, 3, "numbered as Wireshark does");
    let kinds: Vec<_> = s.anomalies.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["block-too-large"]);
    assert_eq!(s.anomalies[0].frames, vec![2]);
}

#[test]
fn numbers_frames_from_one() {
    let mut v = pcap_header(1);
    record(&mut v, 10, &[1, 2, 3]);
    record(&mut v, 11, &[4, 5]);
    let f = write_tmp(&v);
    let mut seen = Vec::new();
    let s = read_capture(f.path().to_str().unwrap(), |fr| {
        seen.push((fr.number, fr.time.secs, fr.data.to_vec()))
    })
    .unwrap();
    assert_eq!(s.frames, 2);
    assert!(s.anomalies.is_empty());
    assert_eq!(seen[0], (1, 10, vec![1, 2, 3]));
    assert_eq!(seen[1], (2, 11, vec![4, 5]));
}

#[test]
fn truncated_file_keeps_earlier_frames() {
    let mut v = pcap_header(1);
    record(&mut v, 10, &[1; 100]);
    record(&mut v, 11, &[2; 100]);
    v.truncate(v.len() - 30);
    let f = write_tmp(&v);
    let mut n = 0;
    let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
    assert_eq!(n, 1);
    assert_eq!(s.anomalies[0].kind, "truncated");
    assert_eq!(s.anomalies[0].frames, vec![1]);
}

#[test]
fn absurd_record_length_is_reported_not_allocated() {
    let mut v = pcap_header(1);
    record(&mut v, 10, &[1; 10]);
    let mut bad = Vec::new();
    record(&mut bad, 11, &[2; 10]);
    bad[8..12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    v.extend_from_slice(&bad);
    let f = write_tmp(&v);
    let mut n = 0;
    let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
    assert_eq!(n, 1);
    assert_eq!(s.anomalies.len(), 1, "{:?}", s.anomalies);
}

#[test]
fn text_and_empty_files_are_errors() {
    let f = write_tmp(b"hello, this is not a capture at all\n");
    let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
    assert!(matches!(e, CaptureError::NotCapture { .. }), "{e}");
    assert!(e.to_string().contains("text (a log"), "{e}");
    let f = write_tmp(b"");
    let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
    assert!(matches!(e, CaptureError::Empty { .. }), "{e}");
}

#[test]
fn other_capture_formats_are_named() {
    for (bytes, says) in [
        (
            &b"GMBU\x00\x02\x01\x00\x00\x00\x00\x00"[..],
            "Network Monitor 2.x",
        ),
        (&b"snoop\0\0\0\0\0\0\x02\0\0\0\x04"[..], "snoop"),
        (&b"PK\x03\x04\x14\0\0\0"[..], "ZIP"),
        (
            &b"\x00\x01\x02\x03\xfe\xff"[..],
            "unknown format (magic 00010203)",
        ),
        // pcap and pcapng ending inside their file header.
        (&b"\xd4\xc3\xb2\xa1\x02\x00"[..], "file header is cut short"),
        (
            &b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c"[..],
            "file header is cut short",
        ),
    ] {
        let f = write_tmp(bytes);
        let e = read_capture(f.path().to_str().unwrap(), |_| {}).unwrap_err();
        assert!(matches!(e, CaptureError::NotCapture { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(says), "{msg}");
        assert!(msg.contains("pcap"), "{msg}");
    }
}

#[test]
fn gzip_is_detected_by_magic() {
    let mut v = pcap_header(1);
    record(&mut v, 10, &[9; 40]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&v).unwrap();
    let f = write_tmp(&gz.finish().unwrap());
    let mut n = 0;
    let s = read_capture(f.path().to_str().unwrap(), |_| n += 1).unwrap();
    assert!(s.gzip);
    assert_eq!(n, 1);
}

/// The first frame's time is found by reading no further than the first buffer: that of
/// the whole reading; nothing for what is not a capture, is missing, or can be read only
/// once (looking would consume standard input).
#[test]
fn the_first_frame_s_time_is_that_of_the_reading() {
    for rel in [
        "followme/busy-site.pcap",
        "followme/merge-xcc-side.pcapng",
        "reader/tcp-split.pcap",
    ] {
        let path = format!("{}/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
        let mut first = None;
        read_capture(&path, |f| {
            first.get_or_insert(f.time);
        })
        .unwrap();
        assert!(first.is_some(), "{rel}");
        assert_eq!(reader::first_frame_time(&path), first, "{rel}");
    }
    let mut text = tempfile::NamedTempFile::new().unwrap();
    text.write_all(b"not a capture\n").unwrap();
    let text = text.path().to_str().unwrap();
    assert_eq!(reader::first_frame_time(text), None);
    assert_eq!(reader::first_frame_time("/no/such/file.pcap"), None);
    assert_eq!(reader::first_frame_time("-"), None);
}
