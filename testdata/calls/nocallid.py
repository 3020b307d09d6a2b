#!/usr/bin/env python3
"""A minimal SIP-over-UDP user agent pair whose messages carry no Call-ID header.

Some home-made user agents omit Call-ID (RFC 3261 §8.1.1 makes it mandatory); sipp always
sends one, hence this script. Python 3 standard library only.

  uas LOCAL_IP PORT       answers an INVITE with 100 Trying and then 404 Not Found and
                          waits for the ACK; answers an OPTIONS with 200 OK; exits after the
                          ACK and the OPTIONS (or after 10 s)
  uac LOCAL_IP PORT REMOTE_IP REMOTE_PORT
                          INVITE (SDP offer) -> 100 -> 404 -> ACK (same branch, RFC 3261
                          §17.1.1.3), then OPTIONS (another From tag, CSeq 7) -> 200

Responses copy Via, From, To (adding a To tag) and CSeq from the request (RFC 3261 §8.2.6.2);
since the request has no Call-ID, neither does the response.
"""
import re
import socket
import sys
import time


def build(start, headers, body=b''):
    hdr = start + '\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in headers)
    hdr += f'Content-Length: {len(body)}\r\n\r\n'
    return hdr.encode() + body


def header(text, name):
    m = re.search(r'^' + re.escape(name) + r'\s*:\s*(.*?)\r?$', text, re.I | re.M)
    return m.group(1).strip() if m else None


def recv(sock, timeout=5.0):
    sock.settimeout(timeout)
    data, addr = sock.recvfrom(65535)
    return data.decode('utf-8', 'replace'), addr


def uas(ip, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, int(port)))
    got_ack = got_options = False
    deadline = time.time() + 10
    while not (got_ack and got_options) and time.time() < deadline:
        try:
            text, addr = recv(sock, max(0.1, deadline - time.time()))
        except socket.timeout:
            break
        start = text.split('\r\n', 1)[0]
        method = start.split(' ', 1)[0]
        copied = [('Via', header(text, 'Via')), ('From', header(text, 'From')),
                  ('To', header(text, 'To') + ';tag=uas404'), ('CSeq', header(text, 'CSeq'))]
        if method == 'INVITE':
            sock.sendto(build('SIP/2.0 100 Trying', copied[:2] + [('To', header(text, 'To'))]
                              + copied[3:]), addr)
            time.sleep(0.05)
            sock.sendto(build('SIP/2.0 404 Not Found',
                              copied + [('Server', 'homebrew-uas/0.1')]), addr)
        elif method == 'ACK':
            got_ack = True
        elif method == 'OPTIONS':
            copied[2] = ('To', header(text, 'To') + ';tag=uasopt')
            sock.sendto(build('SIP/2.0 200 OK', copied + [('Allow', 'INVITE, ACK, OPTIONS')]),
                        addr)
            got_options = True
    if not (got_ack and got_options):
        raise SystemExit('uas: the exchange did not complete')


def uac(ip, port, rip, rport):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, int(port)))
    dst = (rip, int(rport))
    ruri = f'sip:2002@{rip}:{rport}'
    from_ = f'"Lab phone" <sip:1002@{ip}>;tag=nocid1002'
    to = f'<sip:2002@{rip}>'
    via = f'SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-nocid-1'
    sdp = (f'v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n'
           f'm=audio 40100 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n')
    invite = build(f'INVITE {ruri} SIP/2.0', [
        ('Via', via), ('Max-Forwards', '70'), ('From', from_), ('To', to),
        ('CSeq', '1 INVITE'), ('Contact', f'<sip:1002@{ip}:{port}>'),
        ('User-Agent', 'homebrew-uac/0.1'), ('Content-Type', 'application/sdp')],
        sdp.encode())
    sock.sendto(invite, dst)
    final = None
    while final is None:
        text, _ = recv(sock)
        code = int(text[8:11])
        if code >= 200:
            final = text
    # ACK for a non-2xx final response: same branch and Request-URI, the response's To.
    sock.sendto(build(f'ACK {ruri} SIP/2.0', [
        ('Via', via), ('Max-Forwards', '70'), ('From', from_), ('To', header(final, 'To')),
        ('CSeq', '1 ACK')]), dst)
    time.sleep(0.2)
    sock.sendto(build(f'OPTIONS {ruri} SIP/2.0', [
        ('Via', f'SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-nocid-2'), ('Max-Forwards', '70'),
        ('From', f'<sip:1002@{ip}>;tag=nocidopt'), ('To', to), ('CSeq', '7 OPTIONS'),
        ('Accept', 'application/sdp')]), dst)
    text, _ = recv(sock)
    if not text.startswith('SIP/2.0 200'):
        raise SystemExit('uac: OPTIONS not answered 200')


if __name__ == '__main__':
    role = sys.argv[1]
    if role == 'uas':
        uas(*sys.argv[2:4])
    elif role == 'uac':
        uac(*sys.argv[2:6])
    else:
        raise SystemExit(__doc__)
