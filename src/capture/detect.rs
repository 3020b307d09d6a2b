//! Naming what an input is when it is not a capture: the formats support engineers are
//! sent instead of a pcap/pcapng (other sniffers' files, archives, logs), by their first
//! bytes.
//!
//! Stage: capture. Input: the first bytes of a file pcap-parser refused. Output: what it
//! looks like and what to do about it, for
//! [`CaptureError::NotCapture`](super::CaptureError::NotCapture).

/// What a file that is not a capture is, by its first bytes, and what to do about it: the
/// formats support engineers are sent instead of a pcap/pcapng.
pub(super) fn recognise(head: &[u8]) -> (&'static str, &'static str) {
    const RESAVE: &str = "open it in Wireshark and save it as pcapng";
    const UNPACK: &str = "unpack it and give sipdiag the capture inside";
    const KNOWN: &[(&[u8], &str, &str)] = &[
        (b"GMBU", "a Microsoft Network Monitor 2.x capture", RESAVE),
        (b"RTSS", "a Microsoft Network Monitor 1.x capture", RESAVE),
        (b"snoop\0\0\0", "a Solaris snoop capture", RESAVE),
        (b"TRSNIFF data", "a Sniffer capture", RESAVE),
        (b"XCP\0", "a NetXray capture", RESAVE),
        (b"PK\x03\x04", "a ZIP archive", UNPACK),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed", UNPACK),
        (b"\xfd7zXZ\0", "xz-compressed", UNPACK),
        (b"BZh", "bzip2-compressed", UNPACK),
    ];
    if let Some(&(_, what, advice)) = KNOWN.iter().find(|(m, _, _)| head.starts_with(m)) {
        return (what, advice);
    }
    // A capture's own magic, the file ending inside its header (copied short, or read
    // while the writer had written only that much).
    const CAPTURE_MAGICS: &[[u8; 4]] = &[
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if head.len() < 28 && CAPTURE_MAGICS.iter().any(|m| head.starts_with(m)) {
        return (
            "a capture whose file header is cut short",
            "the file ends inside its header: copy it again (or, while it is being written, wait until it holds packets)",
        );
    }
    let text = head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    if text {
        return (
            "text (a log or an exported dissection?)",
            "send the capture file itself (Wireshark: File > Save As pcapng; tcpdump -w)",
        );
    }
    ("unknown format", "save it from Wireshark as pcap or pcapng")
}
