#!/usr/bin/env python3
"""RTP (RFC 3550) packets carrying G.711 mu-law (PT 0, RFC 3551) and a pcap
writer for the audio files that sipp's play_pcap_audio replays.

  python3 rtp.py pcap OUT.pcap --ssrc 0x1A2B3C4D [--count 100] [--skip-every 0]
                   [--pt 0 --clock 8000 --ptime 20 --payload-bytes 0]

writes an Ethernet/IPv4/UDP pcap of --count RTP packets, 20 ms apart,
sequence numbers +1 and timestamps +160 per packet, 160-byte payloads.
With --skip-every N, one packet in every N (slots N//2, N + N//2, ...) is
left out while sequence numbers and timestamps still advance (deliberate
sequence gaps; the first and last packets are always sent).

With --pt/--clock/--ptime/--payload-bytes the same stream carries another
payload format: timestamps advance by clock * ptime / 1000 per packet (e.g.
960 for L16/48000 at 20 ms, 3600 for 90000 Hz video at 40 ms) and each
payload is --payload-bytes bytes of a fixed pattern instead of the tone
(the media stage counts packets, it never decodes them).
"""
import argparse
import math
import struct

CLOCK = 8000
PTIME_MS = 20
SAMPLES = CLOCK * PTIME_MS // 1000  # 160


def linear_to_ulaw(sample):
    """G.711 mu-law encoder for one 16-bit linear sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone_payload(index, freq=440.0, amplitude=6000):
    """160 mu-law samples of a sine tone, continuing across packets."""
    start = index * SAMPLES
    return bytes(
        linear_to_ulaw(int(amplitude * math.sin(2 * math.pi * freq * (start + n) / CLOCK)))
        for n in range(SAMPLES)
    )


def rtp_packet(seq, timestamp, ssrc, payload, pt=0, marker=False):
    b0 = 0x80  # V=2, P=0, X=0, CC=0
    b1 = (0x80 if marker else 0) | (pt & 0x7F)
    return struct.pack("!BBHII", b0, b1, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


def is_rtp(data):
    return len(data) >= 12 and data[0] >> 6 == 2 and not 72 <= (data[1] & 0x7F) <= 76


def stream(ssrc, count, first_seq, first_ts, pt=0, skip_every=0, freq=440.0,
           step=SAMPLES, payload_bytes=0):
    """Yield (slot, packet) for each packet actually sent."""
    for i in range(count):
        if skip_every and i % skip_every == skip_every // 2:
            continue
        payload = bytes((i + n) & 0xFF for n in range(payload_bytes)) if payload_bytes \
            else tone_payload(i, freq)
        yield i, rtp_packet(first_seq + i, first_ts + i * step, ssrc, payload, pt,
                            marker=(i == 0))


def _ip_checksum(header):
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path, packets, src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=40002):
    """packets: iterable of (time_seconds, udp_payload)."""
    import socket
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ident, (t, payload) in enumerate(packets):
            udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000,
                              64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
            iph = iph[:10] + struct.pack("!H", _ip_checksum(iph)) + iph[12:]
            frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + iph + udp
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", 1_000_000_000 + sec, usec, len(frame), len(frame)))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pcap")
    p.add_argument("out")
    p.add_argument("--ssrc", type=lambda s: int(s, 0), required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--first-seq", type=int, default=1000)
    p.add_argument("--first-ts", type=int, default=16000)
    p.add_argument("--skip-every", type=int, default=0)
    p.add_argument("--freq", type=float, default=440.0)
    p.add_argument("--pt", type=int, default=0)
    p.add_argument("--clock", type=int, default=CLOCK)
    p.add_argument("--ptime", type=int, default=PTIME_MS, help="milliseconds per packet")
    p.add_argument("--payload-bytes", type=int, default=0,
                   help="payload size; 0: the 160-byte mu-law tone")
    a = ap.parse_args()
    step = a.clock * a.ptime // 1000
    pkts = [(slot * a.ptime / 1000.0, pkt)
            for slot, pkt in stream(a.ssrc, a.count, a.first_seq, a.first_ts, pt=a.pt,
                                    skip_every=a.skip_every, freq=a.freq, step=step,
                                    payload_bytes=a.payload_bytes)]
    write_pcap(a.out, pkts)


if __name__ == "__main__":
    main()
