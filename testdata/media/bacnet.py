#!/usr/bin/env python3
"""A BACnet/IP client and device (ASHRAE 135 Annex J, UDP 47808) exchanging
ReadProperty requests and ComplexACKs, for a capture of non-RTP UDP whose bytes
happen to look like RTP.

  python3 bacnet.py device --addr 127.0.0.90 [--polls 60]
  python3 bacnet.py client --addr 127.0.0.91 --device 127.0.0.90 [--polls 60] [--interval 0.2]

The client reads present-value (property 85) of CharacterString Value 1 every
--interval seconds; the device answers with a status text that grows by one
character per poll. Every datagram starts with the BVLC header 0x81 0x0a
(BACnet/IP, Original-Unicast-NPDU): read as RTP that is version 2, one CSRC,
payload type 10 (L16). In the device's answers the BVLC length, which RTP
would read as the sequence number, grows by one per answer, the "timestamp"
(NPDU version and control, APDU type and invoke id) by one per answer, and the
"SSRC" (service choice, context tag, object type) stays the same: a run of
consecutive sequence numbers under one SSRC, with timestamps that advance by
one unit per poll instead of at any audio or video clock.
"""
import argparse
import socket
import struct
import sys
import time

PORT = 47808
OBJECT = (40 << 22) | 1  # CharacterString Value 1 (object type 40, instance 1)
PRESENT_VALUE = 85


def bvlc(npdu_apdu):
    """BVLC Original-Unicast-NPDU (J.2.11) around an NPDU."""
    return struct.pack("!BBH", 0x81, 0x0A, 4 + len(npdu_apdu)) + npdu_apdu


def read_property(invoke_id):
    """Confirmed-Request ReadProperty (service choice 12) of present-value."""
    npdu = b"\x01\x04"  # version 1, expecting reply
    apdu = struct.pack("!BBBB", 0x00, 0x05, invoke_id, 0x0C)
    apdu += b"\x0c" + struct.pack("!I", OBJECT) + struct.pack("!BB", 0x19, PRESENT_VALUE)
    return bvlc(npdu + apdu)


def complex_ack(invoke_id, text):
    """ComplexACK of ReadProperty with a CharacterString (ANSI X3.4) value."""
    value = b"\x00" + text.encode("ascii")
    if len(value) <= 4:
        tag = bytes([0x70 | len(value)])
    else:
        tag = bytes([0x75, len(value)])
    npdu = b"\x01\x00"
    apdu = struct.pack("!BBB", 0x30, invoke_id, 0x0C)
    apdu += b"\x0c" + struct.pack("!I", OBJECT) + struct.pack("!BB", 0x19, PRESENT_VALUE)
    apdu += b"\x3e" + tag + value + b"\x3f"
    return bvlc(npdu + apdu)


def device(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.addr, PORT))
    s.settimeout(30)
    print("ready", flush=True)
    for n in range(a.polls):
        data, peer = s.recvfrom(1500)
        if len(data) < 9 or data[0] != 0x81 or data[6] != 0x00:
            continue
        invoke_id = data[8]
        text = "Running" + "." * n
        s.sendto(complex_ack(invoke_id, text), peer)


def client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.addr, PORT))
    s.settimeout(5)
    for n in range(a.polls):
        s.sendto(read_property(n & 0xFF), (a.device, PORT))
        s.recvfrom(1500)
        time.sleep(a.interval)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("role", choices=["device", "client"])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--device")
    ap.add_argument("--polls", type=int, default=60)
    ap.add_argument("--interval", type=float, default=0.2)
    a = ap.parse_args()
    (device if a.role == "device" else client)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
