#!/usr/bin/env python3
"""SIP over plain WebSocket (RFC 6455 + RFC 7118), both parties, Python 3 standard library only.

  ws.py server LISTEN_IP PORT            accept one connection, answer the HTTP Upgrade
                                         (Sec-WebSocket-Protocol: sip), then act as a SIP
                                         registrar/UA: REGISTER -> 200 OK; INVITE -> 100 Trying,
                                         486 Busy Here; ACK absorbed; echo the close frame
  ws.py client LOCAL_IP SERVER_IP PORT CALL_ID_PREFIX
                                         Upgrade, REGISTER, INVITE, ACK, close

Every SIP message travels in its own WebSocket text frame (FIN=1, opcode 1). Client frames are
masked with masking keys from random.Random(7118) (reproducible); server frames are unmasked.
"""
import base64
import hashlib
import random
import re
import socket
import struct
import sys

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
KEY = base64.b64encode(b'sipdiag-ws-key-1').decode()   # 16 bytes -> fixed key


def frame(payload, opcode=1, mask_rng=None):
    b0 = 0x80 | opcode
    n = len(payload)
    mbit = 0x80 if mask_rng else 0
    if n < 126:
        head = struct.pack('!BB', b0, mbit | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, mbit | 126, n)
    else:
        head = struct.pack('!BBQ', b0, mbit | 127, n)
    if mask_rng:
        key = bytes(mask_rng.getrandbits(8) for _ in range(4))
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        head += key
    return head + payload


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b''

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit('connection closed')
            self.buf += chunk

    def http(self):
        while b'\r\n\r\n' not in self.buf:
            self._need(len(self.buf) + 1)
        end = self.buf.index(b'\r\n\r\n') + 4
        head, self.buf = self.buf[:end].decode(), self.buf[end:]
        return head

    def frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack('!H', self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack('!Q', self.buf[2:10])[0], 10
        key = None
        if b1 & 0x80:
            self._need(off + 4)
            key, off = self.buf[off:off + 4], off + 4
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        if key:
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        return b0 & 0x0F, payload


def sip(start, headers, body=''):
    return (start + '\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in headers)
            + f'Content-Length: {len(body.encode())}\r\n\r\n' + body).encode()


def hdr(msg, name):
    m = re.search(r'^' + re.escape(name) + r'\s*:\s*(.*?)\r?$', msg, re.I | re.M)
    return m.group(1) if m else ''


def server(listen_ip, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((listen_ip, int(port)))
    ls.listen(1)
    ls.settimeout(20)
    sock, _ = ls.accept()
    sock.settimeout(20)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = Conn(sock)
    req = c.http()
    key = hdr(req, 'Sec-WebSocket-Key')
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    sock.sendall(('HTTP/1.1 101 Switching Protocols\r\n'
                  'Upgrade: websocket\r\n'
                  'Connection: Upgrade\r\n'
                  f'Sec-WebSocket-Accept: {accept}\r\n'
                  'Sec-WebSocket-Protocol: sip\r\n\r\n').encode())
    while True:
        op, payload = c.frame()
        if op == 8:
            sock.sendall(frame(payload[:2], opcode=8))
            break
        msg = payload.decode()
        method = msg.split(' ', 1)[0]
        common = [('Via', hdr(msg, 'Via')), ('From', hdr(msg, 'From')),
                  ('To', hdr(msg, 'To') + ('' if 'tag=' in hdr(msg, 'To') else ';tag=ws-srv-1')),
                  ('Call-ID', hdr(msg, 'Call-ID')), ('CSeq', hdr(msg, 'CSeq'))]
        if method == 'REGISTER':
            sock.sendall(frame(sip('SIP/2.0 200 OK', common + [
                ('Contact', hdr(msg, 'Contact') + ';expires=600')])))
        elif method == 'INVITE':
            trying = [h if h[0] != 'To' else ('To', hdr(msg, 'To')) for h in common]
            sock.sendall(frame(sip('SIP/2.0 100 Trying', trying)))
            sock.sendall(frame(sip('SIP/2.0 486 Busy Here', common)))
        # ACK: nothing to answer
    sock.close()
    ls.close()


def client(local_ip, server_ip, port, cid):
    rng = random.Random(7118)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(20)
    sock.bind((local_ip, 0))
    sock.connect((server_ip, int(port)))
    c = Conn(sock)
    sock.sendall((f'GET / HTTP/1.1\r\n'
                  f'Host: {server_ip}:{port}\r\n'
                  'Upgrade: websocket\r\n'
                  'Connection: Upgrade\r\n'
                  f'Sec-WebSocket-Key: {KEY}\r\n'
                  'Sec-WebSocket-Version: 13\r\n'
                  'Sec-WebSocket-Protocol: sip\r\n'
                  f'Origin: http://{local_ip}\r\n\r\n').encode())
    resp = c.http()
    assert resp.startswith('HTTP/1.1 101'), resp
    via_host = 'df7jal23ls0d.invalid'
    aor = f'sip:3001@{server_ip}'
    contact = f'<sip:3001@{via_host};transport=ws>'

    def send(m):
        sock.sendall(frame(m, mask_rng=rng))

    def recv():
        op, payload = c.frame()
        assert op == 1, op
        return payload.decode()

    send(sip(f'REGISTER sip:{server_ip} SIP/2.0', [
        ('Via', f'SIP/2.0/WS {via_host};branch=z9hG4bK-ws-1'), ('Max-Forwards', '70'),
        ('From', f'<{aor}>;tag=ws-cli-1'), ('To', f'<{aor}>'), ('Call-ID', f'{cid}-reg'),
        ('CSeq', '1 REGISTER'), ('Contact', contact), ('Expires', '600'),
        ('User-Agent', 'ws.py client')]))
    r = recv()
    assert r.startswith('SIP/2.0 200'), r
    sdp = ('v=0\r\n'
           f'o=- 3950000201 3950000201 IN IP4 {local_ip}\r\n'
           's=-\r\n'
           f'c=IN IP4 {local_ip}\r\n'
           't=0 0\r\n'
           'm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n'
           'a=rtpmap:111 opus/48000/2\r\n'
           'a=rtpmap:0 PCMU/8000\r\n'
           'a=sendrecv\r\n')
    inv_hdrs = [('Via', f'SIP/2.0/WS {via_host};branch=z9hG4bK-ws-2'), ('Max-Forwards', '70'),
                ('From', f'<{aor}>;tag=ws-cli-2'), ('To', f'<sip:2001@{server_ip}>'),
                ('Call-ID', f'{cid}-call'), ('CSeq', '1 INVITE'), ('Contact', contact),
                ('User-Agent', 'ws.py client'), ('Content-Type', 'application/sdp')]
    send(sip(f'INVITE sip:2001@{server_ip} SIP/2.0', inv_hdrs, sdp))
    while True:
        r = recv()
        st = int(r[8:11])
        if st >= 200:
            break
    to = hdr(r, 'To')
    send(sip(f'ACK sip:2001@{server_ip} SIP/2.0', [
        ('Via', f'SIP/2.0/WS {via_host};branch=z9hG4bK-ws-2'), ('Max-Forwards', '70'),
        ('From', f'<{aor}>;tag=ws-cli-2'), ('To', to), ('Call-ID', f'{cid}-call'),
        ('CSeq', '1 ACK')]))
    # close frame (status 1000), echoed by the server
    sock.sendall(frame(struct.pack('!H', 1000), opcode=8, mask_rng=rng))
    op, _ = c.frame()
    assert op == 8, op
    sock.close()


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        server(*sys.argv[2:4])
    else:
        client(*sys.argv[2:6])
