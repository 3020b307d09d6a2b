//! A second capture point made from a capture (std only: the benches include it too).

/// The little-endian classic pcap `data` as seen at a second capture point: the same
/// packets, each three in turn stamped a millisecond earlier or later (the side that sees
/// a packet first changes every few packets, as between the PBX side and the XCC side),
/// so that a merged read finds every packet at both points.
pub fn second_point(data: &[u8]) -> Vec<u8> {
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut out = data[..24].to_vec();
    let (mut off, mut n) = (24, 0u64);
    while off + 16 <= data.len() {
        let word = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
        let micros = i64::from(word(off)) * 1_000_000 + i64::from(word(off + 4));
        let shifted = micros
            + if (n / 3).is_multiple_of(2) {
                1000
            } else {
                -1000
            };
        out.extend_from_slice(&((shifted / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((shifted % 1_000_000) as u32).to_le_bytes());
        let len = word(off + 8) as usize;
        out.extend_from_slice(&data[off + 8..off + 16 + len]);
        off += 16 + len;
        n += 1;
    }
    out
}
