#!/usr/bin/env python3
"""Rewraps the Ethernet frames of a classic pcap into a pcapng file (stdlib only).

  erf.py erf   IN.pcap OUT.pcapng   each frame as an ERF record (link type 197, LINKTYPE_ERF):
                                    16-byte ERF header (timestamp, type 2 = ETH, flags,
                                    rlen, lctr, wlen), one 8-byte extension header on every
                                    second record (type bit 7 set), 2-byte pad, the frame
  erf.py user0 IN.pcap OUT.pcapng   the frames unchanged, link type 147 (LINKTYPE_USER0)
  erf.py atm   IN.pcap OUT.pcapng   link type 197, but ERF ATM records (type 3: 4-byte ATM cell
                                    header + 48 bytes, the first 48 bytes of each frame)
  erf.py mixed IN.pcap OUT.pcapng   two interfaces: the frames on interface 0 (Ethernet), then
                                    the same frames again on interface 1 (LINKTYPE_USER0)

The pcapng has one Section Header Block, one Interface Description Block (microsecond
timestamps) and one Enhanced Packet Block per frame, with the pcap's timestamps.
"""
import struct
import sys


def read_pcap(path):
    data = open(path, 'rb').read()
    end = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    nsec = data[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + 'IIII', data[off:off + 16])
        usec = frac // 1000 if nsec else frac
        out.append((sec, usec, data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return out


def block(btype, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack('<II', btype, total) + body + b'\0' * pad + struct.pack('<I', total)


def erf_record(i, sec, usec, frame, orig):
    ext = i % 2 == 1
    # ERF timestamp: little-endian 64-bit fixed point, seconds in the high 32 bits.
    ts = (sec << 32) | ((usec << 32) // 1_000_000)
    rtype = 2 | (0x80 if ext else 0)
    hdr_len = 16 + (8 if ext else 0) + 2
    rlen = hdr_len + len(frame)
    wlen = orig + 4  # the wire length counts the Ethernet FCS, which is not captured
    rec = struct.pack('<Q', ts) + struct.pack('>BBHHH', rtype, 0x04, rlen, 0, wlen)
    if ext:
        # Extension header type 3 (classification), no further header (bit 7 clear).
        rec += bytes([0x03, 0, 0, 0, 0, 0, 0x12, 0x34])
    rec += b'\0\0'  # Ethernet offset + pad
    return rec + frame, orig + hdr_len


def erf_atm_record(sec, usec, frame):
    ts = (sec << 32) | ((usec << 32) // 1_000_000)
    cell = bytes([0, 0, 0x01, 0x00]) + frame[:48].ljust(48, b'\0')
    rec = struct.pack('<Q', ts) + struct.pack('>BBHHH', 3, 0, 16 + len(cell), 0, len(cell))
    return rec + cell, 16 + len(cell)


def main():
    mode, src, dst = sys.argv[1:]
    frames = read_pcap(src)
    linktypes = {'erf': [197], 'atm': [197], 'user0': [147], 'mixed': [1, 147]}[mode]
    out = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
    for lt in linktypes:
        out += block(1, struct.pack('<HHI', lt, 0, 0))
    for iface in range(len(linktypes)):
        for i, (sec, usec, frame, orig) in enumerate(frames):
            if mode == 'erf':
                data, orig = erf_record(i, sec, usec, frame, orig)
            elif mode == 'atm':
                data, orig = erf_atm_record(sec, usec, frame)
            else:
                data = frame
            ts = sec * 1_000_000 + usec + iface * 1_000_000
            body = struct.pack('<IIIII', iface, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + data
            out += block(6, body)
    open(dst, 'wb').write(out)


if __name__ == '__main__':
    main()
