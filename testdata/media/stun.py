#!/usr/bin/env python3
"""Minimal STUN (RFC 5389) message codec with the ICE attributes of RFC 8445.

Used by softphone.py to build and check real ICE connectivity checks, and by
verify.py to re-check the messages found in the fixtures.

Layout (RFC 5389 section 6): 2-byte type, 2-byte length (attributes only),
magic cookie 0x2112A442, 96-bit transaction id, then TLV attributes padded
to 4 bytes.  MESSAGE-INTEGRITY (section 15.4) is HMAC-SHA1 over the message
up to the attribute, with the header length already covering it;
FINGERPRINT (section 15.5) is CRC-32 of the message up to the attribute,
XOR 0x5354554e, with the header length already covering it.
"""
import hmac
import hashlib
import os
import socket
import struct
import zlib

MAGIC_COOKIE = 0x2112A442
FINGERPRINT_XOR = 0x5354554E

BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111

ATTR_USERNAME = 0x0006
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_PRIORITY = 0x0024
ATTR_USE_CANDIDATE = 0x0025
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
ATTR_ICE_CONTROLLED = 0x8029
ATTR_ICE_CONTROLLING = 0x802A

ATTR_NAMES = {
    ATTR_USERNAME: "USERNAME",
    ATTR_MESSAGE_INTEGRITY: "MESSAGE-INTEGRITY",
    ATTR_ERROR_CODE: "ERROR-CODE",
    ATTR_XOR_MAPPED_ADDRESS: "XOR-MAPPED-ADDRESS",
    ATTR_PRIORITY: "PRIORITY",
    ATTR_USE_CANDIDATE: "USE-CANDIDATE",
    ATTR_SOFTWARE: "SOFTWARE",
    ATTR_FINGERPRINT: "FINGERPRINT",
    ATTR_ICE_CONTROLLED: "ICE-CONTROLLED",
    ATTR_ICE_CONTROLLING: "ICE-CONTROLLING",
}


def new_transaction_id():
    """Random 96-bit transaction id (RFC 5389 section 6)."""
    return os.urandom(12)


def _pad(value):
    return value + b"\x00" * ((4 - len(value) % 4) % 4)


def _tlv(attr_type, value):
    return struct.pack("!HH", attr_type, len(value)) + _pad(value)


def candidate_priority(type_pref, local_pref=65535, component=1):
    """RFC 8445 section 5.1.2.1."""
    return (type_pref << 24) + (local_pref << 8) + (256 - component)


def xor_address(ip, port, txid):
    """XOR-MAPPED-ADDRESS value for IPv4 (RFC 5389 section 15.2)."""
    xport = port ^ (MAGIC_COOKIE >> 16)
    xaddr = struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC_COOKIE
    return struct.pack("!BBHI", 0, 0x01, xport, xaddr)


def unxor_address(value):
    family, xport, xaddr = value[1], struct.unpack("!H", value[2:4])[0], value[4:8]
    if family != 0x01:
        raise ValueError("only IPv4 handled")
    port = xport ^ (MAGIC_COOKIE >> 16)
    addr = struct.unpack("!I", xaddr)[0] ^ MAGIC_COOKIE
    return socket.inet_ntoa(struct.pack("!I", addr)), port


def encode(msg_type, txid, attrs, integrity_key=None, fingerprint=True):
    """Build a STUN message.

    attrs: list of (type, bytes) in wire order, without MESSAGE-INTEGRITY
    and FINGERPRINT, which are appended here when requested.
    """
    body = b"".join(_tlv(t, v) for t, v in attrs)
    if integrity_key is not None:
        # Length covers everything up to and including MESSAGE-INTEGRITY (24 bytes).
        header = struct.pack("!HHI", msg_type, len(body) + 24, MAGIC_COOKIE) + txid
        mac = hmac.new(integrity_key, header + body, hashlib.sha1).digest()
        body += _tlv(ATTR_MESSAGE_INTEGRITY, mac)
    if fingerprint:
        # Length covers everything up to and including FINGERPRINT (8 bytes).
        header = struct.pack("!HHI", msg_type, len(body) + 8, MAGIC_COOKIE) + txid
        crc = (zlib.crc32(header + body) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
        body += _tlv(ATTR_FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", msg_type, len(body), MAGIC_COOKIE) + txid + body


def is_stun(data):
    """RFC 7983 demultiplexing plus the magic cookie."""
    return (
        len(data) >= 20
        and data[0] < 4
        and struct.unpack("!I", data[4:8])[0] == MAGIC_COOKIE
        and struct.unpack("!H", data[2:4])[0] + 20 == len(data)
    )


class Message:
    def __init__(self, msg_type, txid, attrs, raw):
        self.type = msg_type
        self.txid = txid
        self.attrs = attrs  # list of (type, value, offset-of-tlv)
        self.raw = raw

    def get(self, attr_type):
        for t, v, _ in self.attrs:
            if t == attr_type:
                return v
        return None

    def has(self, attr_type):
        return any(t == attr_type for t, _, _ in self.attrs)

    def check_integrity(self, key):
        """True if MESSAGE-INTEGRITY verifies with key (RFC 5389 section 15.4)."""
        for t, v, off in self.attrs:
            if t == ATTR_MESSAGE_INTEGRITY:
                length = off - 20 + 24
                header = struct.pack("!HHI", self.type, length, MAGIC_COOKIE) + self.txid
                mac = hmac.new(key, header + self.raw[20:off], hashlib.sha1).digest()
                return hmac.compare_digest(mac, v)
        return False

    def check_fingerprint(self):
        for t, v, off in self.attrs:
            if t == ATTR_FINGERPRINT:
                length = off - 20 + 8
                header = struct.pack("!HHI", self.type, length, MAGIC_COOKIE) + self.txid
                crc = (zlib.crc32(header + self.raw[20:off]) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
                return crc == struct.unpack("!I", v)[0]
        return False


def decode(data):
    if not is_stun(data):
        raise ValueError("not a STUN message")
    msg_type, length = struct.unpack("!HH", data[0:4])
    txid = data[8:20]
    attrs = []
    off = 20
    while off + 4 <= 20 + length:
        t, l = struct.unpack("!HH", data[off:off + 4])
        attrs.append((t, data[off + 4:off + 4 + l], off))
        off += 4 + l + ((4 - l % 4) % 4)
    return Message(msg_type, txid, attrs, data)
