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


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    {'vlan': cmd_vlan, 'bigendian': cmd_bigendian, 'corrupt': cmd_corrupt,
     'random': cmd_random, 'records': cmd_records}[cmd](*args)


if __name__ == '__main__':
    main(sys.argv)
