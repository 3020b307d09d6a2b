#!/usr/bin/env python3
"""Independent check of the media fixtures (stdlib only, no tshark).

  python3 verify.py FILE.pcap...

Reads a classic Ethernet pcap, takes the ICE credentials from the JSON
signalling on TCP 2230 (or none for SIP calls), and for every STUN message
checks FINGERPRINT and MESSAGE-INTEGRITY (a request with the receiver's
ice-pwd, a response with the responder's ice-pwd).  For every RTP SSRC it
prints packets, expected (highest - lowest sequence number + 1) and lost.
Frame numbers are 1-based, as Wireshark numbers them.
"""
import json
import socket
import struct
import sys

import rtp
import stun

SIGNALLING_PORT = 2230


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{path}: not a little-endian classic pcap")
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet")
    off, number = 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        number += 1
        yield number, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def ipv4(frame):
    """Return (proto, src, dst, l4 bytes) or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    return ip[9], socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), ip[ihl:total]


def main():
    for path in sys.argv[1:]:
        print(f"== {path}")
        creds = {}  # ufrag -> pwd, from the signalling
        stun_msgs, rtp_streams, sig_segments = [], {}, 0
        for number, frame in frames(path):
            parsed = ipv4(frame)
            if parsed is None:
                continue
            proto, src, dst, l4 = parsed
            if proto == 6:
                sport, dport = struct.unpack("!HH", l4[:4])
                payload = l4[(l4[12] >> 4) * 4:]
                if payload and SIGNALLING_PORT in (sport, dport):
                    sig_segments += 1
                    for line in payload.split(b"\r\n"):
                        if line.startswith(b"{"):
                            ice = json.loads(line).get("ice")
                            if ice:
                                creds[ice["ufrag"]] = ice["pwd"]
            elif proto == 17:
                sport, dport = struct.unpack("!HH", l4[:4])
                payload = l4[8:]
                if stun.is_stun(payload):
                    stun_msgs.append((number, src, sport, dst, dport, stun.decode(payload)))
                elif rtp.is_rtp(payload):
                    seq, _, ssrc = struct.unpack("!HII", payload[2:12])
                    key = (ssrc, src, sport, dst, dport)
                    rtp_streams.setdefault(key, []).append((number, seq))
        print(f"signalling segments with data on TCP {SIGNALLING_PORT}: {sig_segments}")
        requests = {}
        for number, src, sport, dst, dport, msg in stun_msgs:
            kind = {stun.BINDING_REQUEST: "request", stun.BINDING_SUCCESS: "success"}.get(msg.type, hex(msg.type))
            username = msg.get(stun.ATTR_USERNAME)
            if msg.type == stun.BINDING_REQUEST:
                requests.setdefault(msg.txid, username)
            else:
                username = requests.get(msg.txid)
            pwd = None
            if username:
                receiver_ufrag = username.decode().split(":")[0]
                pwd = creds.get(receiver_ufrag)
            mi = "n/a" if pwd is None else ("ok" if msg.check_integrity(pwd.encode()) else "BAD")
            fp = "ok" if msg.check_fingerprint() else "BAD"
            extra = []
            if msg.has(stun.ATTR_USE_CANDIDATE):
                extra.append("USE-CANDIDATE")
            if msg.has(stun.ATTR_ICE_CONTROLLING):
                extra.append("ICE-CONTROLLING")
            if msg.has(stun.ATTR_ICE_CONTROLLED):
                extra.append("ICE-CONTROLLED")
            xma = msg.get(stun.ATTR_XOR_MAPPED_ADDRESS)
            if xma:
                extra.append("mapped=%s:%d" % stun.unxor_address(xma))
            print(f"stun frame {number}: {src}:{sport} -> {dst}:{dport} {kind} tx={msg.txid.hex()} "
                  f"user={username.decode() if username else '-'} integrity={mi} fingerprint={fp} {' '.join(extra)}")
        for (ssrc, src, sport, dst, dport), pkts in rtp_streams.items():
            seqs = [s for _, s in pkts]
            expected = max(seqs) - min(seqs) + 1
            print(f"rtp ssrc=0x{ssrc:08X} {src}:{sport} -> {dst}:{dport} frames {pkts[0][0]}-{pkts[-1][0]} "
                  f"packets={len(pkts)} expected={expected} lost={expected - len(pkts)} "
                  f"seq={min(seqs)}-{max(seqs)}")


if __name__ == "__main__":
    main()
