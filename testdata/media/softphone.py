#!/usr/bin/env python3
"""A small softphone client / server pair: signalling on TCP 2230, then ICE
connectivity checks (RFC 8445, STUN Binding per RFC 5389) and G.711 RTP.

  softphone.py server --sig 127.0.0.60:2230 --media 127.0.0.60:30010 [options]
  softphone.py client --sig 127.0.0.60:2230 --local-sig 127.0.0.50:41230 \
                      --media 127.0.0.50:49200 [options]

Signalling is a line-oriented JSON exchange (one line per TCP segment):
  client -> server  invite (ICE ufrag/pwd/candidate), media (state), hangup
  server -> client  progress, answer (ICE ufrag/pwd/candidate), ok, bye

ICE: the client is controlling, the server controlled; one host candidate
each (component 1), and with --media2 a second client host candidate whose
socket only sends checks to the server's candidate (the server keeps checking
the first; with --check-all-candidates it checks the second too).  Each side checks the single pair; a received check is
answered and triggers the receiver's own check (RFC 8445 section 7.3.1.4).
Once the client's check succeeds it nominates with a second check carrying
USE-CANDIDATE (regular nomination, RFC 8445 section 8.1.1), paced Ta=50 ms
after the first.  Requests are retransmitted per RFC 5389 section 7.2.1:
RTO 100 ms doubling, 5 transmissions (0, 100, 300, 700, 1500 ms), the
transaction fails 1600 ms after the last one.  The nominated pair carries
100 RTP packets (PT 0, 20 ms, 160-byte payload) in each direction.

Options that shape the failure cases:
  --firewall      drop every UDP datagram arriving on the media socket
                  (a firewall in front of this side's media port range)
  --no-checks     (server) never send own checks; the server's media
                  address is not routed towards the client
  --skip-every N  leave out one RTP packet in every N (slots N//2, N+N//2,
                  ...; sequence numbers and timestamps still advance)
  --no-media      (both) no ICE and no RTP after the answer
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

import rtp
import stun

CALL_ID = "c4b-7f3a21"
CLIENT_ICE = {"ufrag": "Xc9f", "pwd": "r2Hq8LkT0vWb3NsY7pZa1dEe"}
SERVER_ICE = {"ufrag": "Sv4k", "pwd": "Jm5Gx0QcRt8Uy2Wn6Bf3Hp9K"}
CLIENT_SSRC, SERVER_SSRC = 0x2A6B1C01, 0x7E3D9F02
CLIENT_SEQ, SERVER_SEQ = 4001, 12001
RTP_PACKETS = 100

RTO = 0.100
MAX_SENDS = 5
FINAL_WAIT = 16 * RTO  # Rm * RTO (RFC 5389 section 7.2.1)
TA = 0.050

HOST_PRIORITY = stun.candidate_priority(126)
PRFLX_PRIORITY = stun.candidate_priority(110)


def hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def log(role, text):
    print(f"{time.monotonic():.3f} {role}: {text}", file=sys.stderr, flush=True)


class Transaction:
    def __init__(self, txid, data, dest, nominate, now):
        self.txid, self.data, self.dest, self.nominate = txid, data, dest, nominate
        self.sends = 0
        self.rto = RTO
        self.next_time = now
        self.done = False
        self.failed = False


class Agent:
    """ICE agent for one component with a single local and remote candidate."""

    def __init__(self, role, sock, local_ice, remote_ice, remote_addr, controlling, args, signal=None):
        self.role, self.sock = role, sock
        self.signal = signal or (lambda state: None)
        self.local, self.remote = local_ice, remote_ice
        self.remote_addr = remote_addr
        self.controlling = controlling
        self.tiebreaker = os.urandom(8)
        self.args = args
        self.transactions = {}
        self.own_check_sent = False
        self.valid = False
        self.nominated = False
        self.nomination_at = None
        self.rtp_slot = None
        self.rtp_next = None
        self.rtp_received = 0

    # -- STUN ---------------------------------------------------------------
    def start_check(self, now, nominate=False):
        if self.args.no_checks:
            return
        txid = stun.new_transaction_id()
        attrs = [
            (stun.ATTR_USERNAME, f"{self.remote['ufrag']}:{self.local['ufrag']}".encode()),
            (stun.ATTR_PRIORITY, struct.pack("!I", PRFLX_PRIORITY)),
            (stun.ATTR_ICE_CONTROLLING if self.controlling else stun.ATTR_ICE_CONTROLLED, self.tiebreaker),
        ]
        if nominate:
            attrs.append((stun.ATTR_USE_CANDIDATE, b""))
        data = stun.encode(stun.BINDING_REQUEST, txid, attrs, self.remote["pwd"].encode())
        self.transactions[txid] = Transaction(txid, data, self.remote_addr, nominate, now)
        self.own_check_sent = True
        log(self.role, f"check {txid.hex()} nominate={nominate}")

    def on_udp(self, data, src, now):
        if self.args.firewall:
            return  # dropped before it reaches the agent
        if stun.is_stun(data):
            msg = stun.decode(data)
            if not msg.check_fingerprint():
                return
            if msg.type == stun.BINDING_REQUEST:
                self.on_request(msg, src, now)
            elif msg.type == stun.BINDING_SUCCESS:
                self.on_success(msg, now)
        elif rtp.is_rtp(data):
            self.rtp_received += 1

    def on_request(self, msg, src, now):
        username = (msg.get(stun.ATTR_USERNAME) or b"").decode()
        if not username.startswith(self.local["ufrag"] + ":"):
            return
        if not msg.check_integrity(self.local["pwd"].encode()):
            return
        attrs = [(stun.ATTR_XOR_MAPPED_ADDRESS, stun.xor_address(src[0], src[1], msg.txid))]
        resp = stun.encode(stun.BINDING_SUCCESS, msg.txid, attrs, self.local["pwd"].encode())
        self.sock.sendto(resp, src)
        if not self.own_check_sent:
            self.start_check(now)  # triggered check
            self.pump(now)
        if not self.controlling and msg.has(stun.ATTR_USE_CANDIDATE) and not self.nominated:
            self.nominated = True
            log(self.role, "nominated by peer")
            # first packet one packet time (20 ms) later
            self.start_media(now + rtp.PTIME_MS / 1000.0)

    def on_success(self, msg, now):
        tr = self.transactions.get(msg.txid)
        if tr is None or tr.done:
            return
        if not msg.check_integrity(self.remote["pwd"].encode()):
            return
        tr.done = True
        self.valid = True
        mapped = stun.unxor_address(msg.get(stun.ATTR_XOR_MAPPED_ADDRESS))
        log(self.role, f"success {msg.txid.hex()} mapped={mapped}")
        if self.controlling:
            if tr.nominate and not self.nominated:
                self.nominated = True
                self.signal("connected")
                # first packet 30 ms later, 10 ms after the server's first one:
                # the two directions then interleave in a stable order
                self.start_media(now + 0.030)
            elif not tr.nominate and self.nomination_at is None:
                self.nomination_at = now + TA

    def pump(self, now):
        """Send due (re)transmissions and nominations; return failed ones."""
        failed = []
        if self.nomination_at is not None and now >= self.nomination_at:
            self.nomination_at = float("inf")
            self.start_check(now, nominate=True)
        for tr in self.transactions.values():
            if tr.done or now < tr.next_time:
                continue
            if tr.sends < MAX_SENDS:
                self.sock.sendto(tr.data, tr.dest)
                tr.sends += 1
                if tr.sends < MAX_SENDS:
                    tr.next_time = now + tr.rto
                    tr.rto *= 2
                else:
                    tr.next_time = now + FINAL_WAIT
            else:
                tr.done = tr.failed = True
                failed.append(tr)
                log(self.role, f"check {tr.txid.hex()} timed out")
        return failed

    def ice_finished(self):
        return all(tr.done for tr in self.transactions.values()) and self.nomination_at in (None, float("inf"))

    # -- RTP ----------------------------------------------------------------
    def start_media(self, now):
        self.rtp_slot = 0
        self.rtp_next = now
        ssrc, seq = (CLIENT_SSRC, CLIENT_SEQ) if self.controlling else (SERVER_SSRC, SERVER_SEQ)
        freq = 440.0 if self.controlling else 660.0
        self.rtp_iter = rtp.stream(ssrc, RTP_PACKETS, seq, seq * 160, skip_every=self.args.skip_every, freq=freq)
        self.rtp_pending = next(self.rtp_iter, None)

    def pump_media(self, now):
        if self.rtp_next is None or now < self.rtp_next:
            return
        slot = self.rtp_slot
        if self.rtp_pending is not None and self.rtp_pending[0] == slot:
            self.sock.sendto(self.rtp_pending[1], self.remote_addr)
            self.rtp_pending = next(self.rtp_iter, None)
        self.rtp_slot += 1
        self.rtp_next = None if self.rtp_slot >= RTP_PACKETS else self.rtp_next + rtp.PTIME_MS / 1000.0

    def media_done(self):
        return self.rtp_slot is not None and self.rtp_slot >= RTP_PACKETS

    def deadlines(self):
        d = [tr.next_time for tr in self.transactions.values() if not tr.done]
        if self.nomination_at not in (None, float("inf")):
            d.append(self.nomination_at)
        if self.rtp_next is not None:
            d.append(self.rtp_next)
        return d


class LineConn:
    def __init__(self, sock, role):
        self.sock, self.role, self.buf = sock, role, b""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, obj):
        self.sock.sendall(json.dumps(obj, separators=(",", ":")).encode() + b"\r\n")
        log(self.role, f"sent {obj['op']}")

    def read(self):
        """Return (list of messages, closed)."""
        data = self.sock.recv(65536)
        if not data:
            return [], True
        self.buf += data
        out = []
        while b"\r\n" in self.buf:
            line, self.buf = self.buf.split(b"\r\n", 1)
            out.append(json.loads(line))
        return out, False


def candidate(addr, foundation=1, priority=HOST_PRIORITY):
    return f"candidate:{foundation} 1 udp {priority} {addr[0]} {addr[1]} typ host"


def parse_candidate(text):
    parts = text.split()
    return parts[4], int(parts[5])


def loop(sock_tcp, sock_udp, agent_ref, on_tcp, on_tick, stop, second=(None, lambda: None)):
    """second: (socket, agent getter) of the client's second host candidate, if any."""
    sock_udp2, agent2_ref = second
    while not stop():
        now = time.monotonic()
        on_tick(now)
        agent = agent_ref()
        deadlines = agent.deadlines() if agent else []
        if agent2_ref():
            deadlines += agent2_ref().deadlines()
        # 2 ms granularity for the signalling-driven timers that live outside the agent
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 0.002
        timeout = min(timeout, 0.002)
        socks = [s for s in (sock_tcp, sock_udp, sock_udp2) if s is not None]
        r, _, _ = select.select(socks, [], [], timeout)
        for s in r:
            if s is sock_udp:
                data, src = s.recvfrom(65536)
                if agent_ref():
                    agent_ref().on_udp(data, src, time.monotonic())
            elif s is sock_udp2:
                data, src = s.recvfrom(65536)
                if agent2_ref():
                    agent2_ref().on_udp(data, src, time.monotonic())
            else:
                on_tcp(time.monotonic())


def run_server(a):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(hostport(a.sig))
    lst.listen(1)
    media = hostport(a.media)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(media)
    print("ready", flush=True)
    conn_sock, _ = lst.accept()
    conn = LineConn(conn_sock, "server")
    st = {"agent": None, "closed": False, "check_at": None, "extra": []}

    def on_tcp(now):
        msgs, closed = conn.read()
        for m in msgs:
            log("server", f"got {m['op']}")
            if m["op"] == "invite":
                conn.send({"op": "progress", "call": CALL_ID})
                time.sleep(0.020)
                remote = parse_candidate(m["ice"]["candidates"][0])
                conn.send({"op": "answer", "call": CALL_ID,
                           "ice": {**SERVER_ICE, "candidates": [candidate(media)]}})
                if not a.no_media:
                    st["agent"] = Agent("server", udp, SERVER_ICE, m["ice"], remote, False, a)
                    st["check_at"] = time.monotonic() + TA
                    if a.check_all_candidates:
                        # One more agent per further client candidate, on the same socket:
                        # it only sends checks (answers reach the first agent).
                        st["extra"] = [
                            Agent("server", udp, SERVER_ICE, m["ice"], parse_candidate(c), False, a)
                            for c in m["ice"]["candidates"][1:]
                        ]
            elif m["op"] == "media":
                conn.send({"op": "ok", "call": CALL_ID})
            elif m["op"] == "hangup":
                conn.send({"op": "bye", "call": CALL_ID})
                time.sleep(0.010)
                conn_sock.shutdown(socket.SHUT_RDWR)
                conn_sock.close()
                st["closed"] = True
                return
        if closed:
            st["closed"] = True

    def on_tick(now):
        ag = st["agent"]
        if ag is None:
            return
        if st["check_at"] is not None and now >= st["check_at"]:
            st["check_at"] = None
            if not ag.own_check_sent:
                ag.start_check(now)  # ordinary check (none triggered yet)
            for extra in st["extra"]:
                extra.start_check(now)
        for extra in st["extra"]:
            extra.pump(now)
        ag.pump(now)
        ag.pump_media(now)

    loop(conn_sock, udp, lambda: st["agent"], on_tcp, on_tick, lambda: st["closed"])
    ag = st["agent"]
    if ag:
        log("server", f"rtp received {ag.rtp_received}")
    udp.close()
    lst.close()


def run_client(a):
    media = hostport(a.media)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(media)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(hostport(a.local_sig))
    tcp.connect(hostport(a.sig))
    conn = LineConn(tcp, "client")
    # A second host candidate (--media2): its own socket and an agent that only checks.
    media2 = hostport(a.media2) if a.media2 else None
    udp2 = None
    candidates = [candidate(media)]
    if media2:
        udp2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp2.bind(media2)
        candidates.append(candidate(media2, 2, HOST_PRIORITY - 1))
    time.sleep(0.050)
    conn.send({"op": "invite", "call": CALL_ID, "from": "alice", "to": "bob",
               "ice": {**CLIENT_ICE, "candidates": candidates}})
    st = {"agent": None, "agent2": None, "closed": False, "phase": "calling", "t": None,
          "sent_state": False}

    def signal(state):
        if not st["sent_state"]:
            st["sent_state"] = True
            conn.send({"op": "media", "call": CALL_ID, "state": state})

    def on_tcp(now):
        msgs, closed = conn.read()
        for m in msgs:
            log("client", f"got {m['op']}")
            if m["op"] == "answer":
                remote = parse_candidate(m["ice"]["candidates"][0])
                if a.no_media:
                    st["phase"], st["t"] = "waiting", now + 1.0
                else:
                    ag = Agent("client", udp, CLIENT_ICE, m["ice"], remote, True, a, signal)
                    st["agent"] = ag
                    if udp2 is not None:
                        st["agent2"] = Agent("client2", udp2, CLIENT_ICE, m["ice"], remote, True, a)
                    st["phase"], st["t"] = "ice", now + 0.010
            elif m["op"] == "bye":
                st["phase"] = "closing"
        if closed:
            tcp.close()
            st["closed"] = True

    def on_tick(now):
        ag = st["agent"]
        ph = st["phase"]
        if ph == "waiting" and now >= st["t"]:
            signal("connecting")
            st["phase"], st["t"] = "wait-hangup", now + 2.0
        elif ph == "wait-hangup" and now >= st["t"]:
            conn.send({"op": "hangup", "call": CALL_ID})
            st["phase"] = "hungup"
        elif ph == "ice" and now >= st["t"]:
            if not ag.own_check_sent:
                ag.start_check(now)
            if st["agent2"] and not st["agent2"].own_check_sent:
                st["agent2"].start_check(now)
            st["phase"] = "checking"
        if ag is None:
            return
        if st["agent2"]:
            st["agent2"].pump(now)
        ag.pump(now)
        ag.pump_media(now)
        if st["phase"] == "checking":
            if ag.nominated:
                st["phase"] = "media"
            elif ag.ice_finished() and not ag.valid:
                signal("ice-failed")
                st["phase"], st["t"] = "wait-hangup", now + 0.5
        if st["phase"] == "media" and ag.media_done():
            st["phase"], st["t"] = "wait-hangup", now + 0.2

    loop(tcp, udp, lambda: st["agent"], on_tcp, on_tick, lambda: st["closed"],
         (udp2, lambda: st["agent2"]))
    ag = st["agent"]
    if ag:
        log("client", f"rtp received {ag.rtp_received}")
    udp.close()
    if udp2 is not None:
        udp2.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--sig", required=True, help="server signalling address host:port")
    ap.add_argument("--local-sig", help="client signalling source host:port")
    ap.add_argument("--media", required=True, help="local media host:port")
    ap.add_argument("--media2", help="client: a second host candidate host:port (checks only)")
    ap.add_argument("--check-all-candidates", action="store_true",
                    help="server: also check the client's further candidates (checks only)")
    ap.add_argument("--firewall", action="store_true")
    ap.add_argument("--no-checks", action="store_true")
    ap.add_argument("--no-media", action="store_true")
    ap.add_argument("--skip-every", type=int, default=0)
    a = ap.parse_args()
    if a.role == "server":
        run_server(a)
    else:
        run_client(a)


if __name__ == "__main__":
    main()
