#!/usr/bin/env python3
"""Small classic-pcap editor used by make.sh (Python 3 standard library only).

Sub-commands:
  vlan IN OUT VID [OUTER_VID]  insert an 802.1Q tag (VID, PCP 3) after the Ethernet
                               addresses of every frame; with OUTER_VID also insert an
                               802.1ad S-tag (TPID 0x88a8) outside it (QinQ)
  bigendian IN OUT             rewrite the file header and every record header in
                               big-endian byte order (packet bytes unchanged)
  corrupt IN OUT N CAPLEN      set incl_len of record N (1-based) to CAPLEN
                               (e.g. 0x7fffffff); everything else unchanged
  random OUT SIZE SEED         SIZE bytes from Python's random.Random(SEED)
  records IN                   print one line per record: number, offset, incl_len, orig_len
  ngblocks IN OUT              copy a little-endian pcapng file, adding records that are not
                               packets: a systemd Journal Export Block after the 2nd
                               Enhanced Packet Block, a Custom Block and a do-not-copy Custom
                               Block after the 3rd, and a Name Resolution, an Interface
                               Statistics and a Decryption Secrets Block after the 4th
"""
import random
import struct
import sys

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


def read_pcap(path):
    data = open(path, 'rb').read()
    if len(data) < 24:
        raise SystemExit(f'{path}: too short for a pcap header')
    for endian in ('<', '>'):
        magic = struct.unpack(endian + 'I', data[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise SystemExit(f'{path}: not a classic pcap file')
    _, vmaj, vmin, thiszone, sigfigs, snaplen, linktype = struct.unpack(endian + 'IHHiIII', data[:24])
    hdr = dict(magic=magic, vmaj=vmaj, vmin=vmin, thiszone=thiszone, sigfigs=sigfigs,
               snaplen=snaplen, linktype=linktype)
    recs = []
    off = 24
    while off + 16 <= len(data):
        ts_sec, ts_frac, incl, orig = struct.unpack(endian + 'IIII', data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        if len(pkt) < incl:
            raise SystemExit(f'{path}: record at offset {off} is truncated')
        recs.append([ts_sec, ts_frac, incl, orig, pkt, off])
        off += 16 + incl
    return endian, hdr, recs


def write_pcap(path, endian, hdr, recs):
    with open(path, 'wb') as f:
        f.write(struct.pack(endian + 'IHHiIII', hdr['magic'], hdr['vmaj'], hdr['vmin'],
                            hdr['thiszone'], hdr['sigfigs'], hdr['snaplen'], hdr['linktype']))
        for ts_sec, ts_frac, incl, orig, pkt, *_ in recs:
            f.write(struct.pack(endian + 'IIII', ts_sec, ts_frac, incl, orig))
            f.write(pkt)


def cmd_vlan(src, dst, vid, outer=None):
    endian, hdr, recs = read_pcap(src)
    if hdr['linktype'] != 1:
        raise SystemExit('vlan: input must be Ethernet (linktype 1)')
    tag = struct.pack('!HH', 0x8100, (3 << 13) | int(vid))
    if outer is not None:
        tag = struct.pack('!HH', 0x88A8, (3 << 13) | int(outer)) + tag
    out = []
    for ts_sec, ts_frac, incl, orig, pkt, _ in recs:
        pkt = pkt[:12] + tag + pkt[12:]
        out.append([ts_sec, ts_frac, incl + len(tag), orig + len(tag), pkt])
    write_pcap(dst, endian, hdr, out)


def cmd_bigendian(src, dst):
    _, hdr, recs = read_pcap(src)
    write_pcap(dst, '>', hdr, recs)


def cmd_corrupt(src, dst, n, caplen):
    data = bytearray(open(src, 'rb').read())
    endian, _, recs = read_pcap(src)
    n = int(n)
    off = recs[n - 1][5]
    struct.pack_into(endian + 'I', data, off + 8, int(caplen, 0))
    open(dst, 'wb').write(bytes(data))


def cmd_random(dst, size, seed):
    rng = random.Random(int(seed))
    open(dst, 'wb').write(bytes(rng.getrandbits(8) for _ in range(int(size))))


def cmd_records(src):
    _, _, recs = read_pcap(src)
    for i, r in enumerate(recs, 1):
        print(i, r[5], r[2], r[3])


def ng_block(block_type, body):
    """One little-endian pcapng block: type, total length, body padded to 32 bits, length."""
    body += b'\0' * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack('<II', block_type, length) + body + struct.pack('<I', length)


def cmd_ngblocks(src, dst):
    data = open(src, 'rb').read()
    if data[:4] != b'\x0a\x0d\x0d\x0a' or data[8:12] != b'\x4d\x3c\x2b\x1a':
        raise SystemExit(f'{src}: not a little-endian pcapng file')
    pen = struct.pack('<I', 32473)  # the documentation PEN (RFC 5612)
    after = {
        2: [ng_block(0x00000009, b'__REALTIME_TIMESTAMP=1700000000000000\n'
                                 b'MESSAGE=sipdiag test entry\n_PID=1\n')],
        3: [ng_block(0x00000BAD, pen + b'copy me'), ng_block(0x40000BAD, pen + b'do not copy')],
        4: [ng_block(0x00000004, struct.pack('<HH', 1, 13) + bytes([192, 0, 2, 1]) + b'pbx.test\0'
                     + struct.pack('<HH', 0, 0)),
            ng_block(0x00000005, struct.pack('<III', 0, 0, 0)),
            ng_block(0x0000000A, struct.pack('<II', 0x544C534B, 4) + b'x\n\n\n')],
    }
    out = bytearray()
    off = packets = 0
    while off + 12 <= len(data):
        block_type, length = struct.unpack_from('<II', data, off)
        out += data[off:off + length]
        off += length
        if block_type == 6:
            packets += 1
            for b in after.get(packets, []):
                out += b
    open(dst, 'wb').write(out)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    {'vlan': cmd_vlan, 'bigendian': cmd_bigendian, 'corrupt': cmd_corrupt,
     'random': cmd_random, 'records': cmd_records, 'ngblocks': cmd_ngblocks}[cmd](*args)


if __name__ == '__main__':
    main(sys.argv)
