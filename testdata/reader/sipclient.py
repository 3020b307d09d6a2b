#!/usr/bin/env python3
"""Minimal SIP-over-TCP calling party that controls how messages are cut into TCP segments.

It talks to a real sipp UAS (scenarios/uas.xml, `-t t1`): INVITE -> (100, 180, 200) -> ACK ->
BYE -> 200, then closes the connection.  Python 3 standard library only.

Modes (how the client writes its messages; TCP_NODELAY is always on):
  split     INVITE in three send() calls 50 ms apart: the first cut falls inside the
            From header line, the second exactly between the header block and the SDP body
  twoinone  ACK and BYE together in one send() (one TCP segment holding two SIP messages)
  ooo       INVITE in two send() calls 30 ms apart (the namespace firewall set up by make.sh
            drops the first of them once, so it is retransmitted after the second), all other
            messages in one send() each

usage: sipclient.py MODE LOCAL_IP REMOTE_IP REMOTE_PORT CALL_ID
"""
import re
import socket
import sys
import time


def build(start, headers, body=b''):
    hdr = start + '\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in headers)
    hdr += f'Content-Length: {len(body)}\r\n\r\n'
    return hdr.encode() + body


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b''

    def message(self, timeout=10.0):
        self.sock.settimeout(timeout)
        while True:
            end = self.buf.find(b'\r\n\r\n')
            if end >= 0:
                head = self.buf[:end].decode('utf-8', 'replace')
                m = re.search(r'^(?:content-length|l)\s*:\s*(\d+)', head, re.I | re.M)
                clen = int(m.group(1)) if m else 0
                total = end + 4 + clen
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return head, msg[end + 4:]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit('connection closed by peer')
            self.buf += chunk


def status_of(head):
    m = re.match(r'SIP/2\.0 (\d{3})', head)
    return int(m.group(1)) if m else None


def header(head, name):
    m = re.search(r'^' + re.escape(name) + r'\s*:\s*(.*)$', head, re.I | re.M)
    return m.group(1).strip() if m else None


def main():
    mode, local_ip, remote_ip, remote_port, call_id = sys.argv[1:6]
    remote_port = int(remote_port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((local_ip, 0))
    sock.connect((remote_ip, remote_port))
    lport = sock.getsockname()[1]
    rd = Reader(sock)

    ruri = f'sip:2001@{remote_ip}:{remote_port};transport=tcp'
    from_ = f'"1001" <sip:1001@{local_ip}>;tag=tcp{lport}'
    to = f'<sip:2001@{remote_ip}>'
    contact = f'<sip:1001@{local_ip}:{lport};transport=tcp>'

    def via(n):
        return f'SIP/2.0/TCP {local_ip}:{lport};branch=z9hG4bK-{mode}-{n}'

    sdp = ('v=0\r\n'
           f'o=- 3950000101 3950000101 IN IP4 {local_ip}\r\n'
           's=-\r\n'
           f'c=IN IP4 {local_ip}\r\n'
           't=0 0\r\n'
           'm=audio 40000 RTP/AVP 8 0 101\r\n'
           'a=rtpmap:8 PCMA/8000\r\n'
           'a=rtpmap:0 PCMU/8000\r\n'
           'a=rtpmap:101 telephone-event/8000\r\n'
           'a=fmtp:101 0-15\r\n'
           'a=sendrecv\r\n').encode()
    invite = build(f'INVITE {ruri} SIP/2.0', [
        ('Via', via(1)), ('Max-Forwards', '70'), ('From', from_), ('To', to),
        ('Call-ID', call_id), ('CSeq', '1 INVITE'), ('Contact', contact),
        ('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS'), ('User-Agent', f'sipclient.py ({mode})'),
        ('Content-Type', 'application/sdp')], sdp)

    if mode == 'split':
        cut1 = invite.index(b'From: ') + 12          # inside the From header line
        cut2 = invite.index(b'\r\n\r\n') + 4         # header block | body
        parts = [invite[:cut1], invite[cut1:cut2], invite[cut2:]]
    elif mode == 'ooo':
        cut = invite.index(b'Call-ID: ')
        parts = [invite[:cut], invite[cut:]]
    else:
        parts = [invite]
    for i, p in enumerate(parts):
        if i:
            time.sleep(0.05 if mode == 'split' else 0.03)
        sock.sendall(p)

    to_tag_hdr = None
    while True:
        head, _ = rd.message()
        st = status_of(head)
        if st is None:
            raise SystemExit('unexpected request from peer:\n' + head)
        if st >= 200:
            to_tag_hdr = header(head, 'To')
            break
    if status_of(head) != 200:
        raise SystemExit(f'call failed: {head.splitlines()[0]}')

    ack = build(f'ACK {ruri} SIP/2.0', [
        ('Via', via(2)), ('Max-Forwards', '70'), ('From', from_), ('To', to_tag_hdr),
        ('Call-ID', call_id), ('CSeq', '1 ACK')])
    bye = build(f'BYE {ruri} SIP/2.0', [
        ('Via', via(3)), ('Max-Forwards', '70'), ('From', from_), ('To', to_tag_hdr),
        ('Call-ID', call_id), ('CSeq', '2 BYE')])
    if mode == 'twoinone':
        time.sleep(0.1)
        sock.sendall(ack + bye)
    else:
        sock.sendall(ack)
        time.sleep(0.2)
        sock.sendall(bye)
    head, _ = rd.message()
    if status_of(head) != 200:
        raise SystemExit(f'BYE failed: {head.splitlines()[0]}')
    time.sleep(0.1)
    sock.close()


if __name__ == '__main__':
    main()
