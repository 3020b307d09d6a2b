#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/TARGET/, not committed) from the project's fixtures:
# capture files as they are for `analyze`; for the other targets, what tshark finds in
# them (SIP payloads, SDP bodies, STUN messages) in the layout each target reads, and the
# site and IP Office configuration files. Public captures in ../../shared/captures are
# added when present (those under 256 KiB; bigger ones only slow the fuzzer down).
# Needs tshark and python3. Usage: fuzz/seed.sh   (idempotent; run from anywhere)
set -euo pipefail
cd "$(dirname "$0")"
root=..
corpus=corpus
shared=../../shared/captures
mkdir -p "$corpus"/{analyze,tcp,defrag,sctp,sip,sdp,stun,site,ipo_config,xcc_pattern}

captures=$(find "$root/testdata" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' \) -size -256k)
if [ -d "$shared" ]; then
    captures="$captures $(find "$shared" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.gz' \) -size -256k)"
fi

# analyze: the capture files themselves (bad inputs such as random.pcap included).
for f in $captures; do
    cp "$f" "$corpus/analyze/$(basename "$(dirname "$f")")-$(basename "$f")"
done

# Payloads as hex, one per line: SIP over UDP and TCP, STUN over UDP.
payloads=$(mktemp -d)
trap 'rm -rf "$payloads"' EXIT
for f in $captures; do
    tshark -r "$f" -Y 'sip && udp' -T fields -e udp.payload 2>/dev/null >>"$payloads/sip.hex" || true
    tshark -r "$f" -Y 'sip && tcp.len > 0' -T fields -e tcp.payload 2>/dev/null >>"$payloads/sip.hex" || true
    tshark -r "$f" -Y 'stun && udp' -T fields -e udp.payload 2>/dev/null >>"$payloads/stun.hex" || true
done

python3 - "$payloads" "$corpus" <<'PY'
import hashlib, os, struct, sys
payloads, corpus = sys.argv[1], sys.argv[2]

def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

def read(name, limit):
    seen, out = set(), []
    try:
        lines = open(os.path.join(payloads, name)).read().split()
    except FileNotFoundError:
        return out
    for line in lines:
        for h in line.split(","):
            try:
                b = bytes.fromhex(h.replace(":", ""))
            except ValueError:
                continue
            key = b[:40]  # one seed per kind of start line and peer
            if b and key not in seen:
                seen.add(key)
                out.append(b)
    return out[:limit]

sips = read("sip.hex", 300)
for b in sips:
    put("sip", b"\x00" + b)           # flags 0: UDP datagram
    put("sip", b"\x03" + b)           # TCP, not a datagram
    if b"\r\n\r\n" in b:
        body = b.split(b"\r\n\r\n", 1)[1]
        if body.startswith(b"v="):
            put("sdp", body)
for b in read("stun.hex", 200):
    put("stun", b)
    put("stun", struct.pack(">H", len(b)) + b)  # RFC 4571 framing over TCP

# tcp: segments of [flags, seq offset u16, length u8, payload]; flags bit 0 SYN,
# bits 3-4 the direction, bits 5-6 the sequence base (see fuzz_targets/tcp.rs).
def segments(stream, cuts, order, syn=True):
    out, pos, pieces = b"", 1, []
    if syn:
        out += struct.pack(">BHB", 1, 0, 0)
    for c in cuts:
        pieces.append((pos, stream[:c]))
        pos += len(stream[:c])
        stream = stream[c:]
    pieces.append((pos, stream))
    for i in order(len(pieces)):
        off, p = pieces[i]
        for k in range(0, len(p), 255):
            chunk = p[k:k + 255]
            out += struct.pack(">BHB", 0, (off + k) & 0xFFFF, len(chunk)) + chunk
    return out

two = [b for b in sips if b[:3] in (b"INV", b"SIP")][:40]
for i in range(0, len(two) - 1, 2):
    stream = two[i] + two[i + 1]
    if len(stream) > 60000:
        continue
    put("tcp", segments(stream, [len(two[i])], lambda n: range(n)))
    put("tcp", segments(stream, [100, 300], lambda n: reversed(range(n))))
    put("tcp", segments(stream, [200], lambda n: [0, 0, 1, 1]))

# defrag: fragments of [flags, offset u16 (8-byte units), length u8, payload] of a UDP
# datagram (8-byte header + SIP); flags bit 0 IPv6, bit 1 more fragments.
for b in two[:20]:
    udp = struct.pack(">HHHH", 5060, 5060, 8 + len(b), 0) + b
    for v6 in (0, 1):
        for order in (lambda n: range(n), lambda n: reversed(range(n))):
            out = b""
            pieces = [(k, udp[k:k + 248]) for k in range(0, len(udp), 248)]
            for j in order(len(pieces)):
                k, p = pieces[j]
                more = 2 if k + len(p) < len(udp) else 0
                out += struct.pack(">BHB", v6 | more, k // 8, len(p)) + p
            put("defrag", out)

# sctp: packets of [head, then per chunk flags, TSN offset u8, length u8, payload]; head
# bits 0-1 the association, bits 2-3 chunks - 1; chunk flags bit 0 E, bit 1 B, bits 2-3
# the stream (see fuzz_targets/sctp.rs). Each message whole in one chunk, then split over
# three chunks in one packet, then over three packets (the last two swapped in a copy).
for b in two[:20]:
    b = b[:600]
    put("sctp", struct.pack(">BBBB", 0, 3, 0, len(b[:255])) + b[:255])
    parts = [b[k:k + 200] for k in range(0, len(b), 200)][:3]
    flags = [2] + [0] * (len(parts) - 2) + [1] if len(parts) > 1 else [3]
    chunks = [struct.pack(">BBB", f, i, len(p)) + p for i, (f, p) in enumerate(zip(flags, parts))]
    put("sctp", bytes([(len(chunks) - 1) << 2]) + b"".join(chunks))
    put("sctp", b"".join(b"\x00" + c for c in chunks))
    put("sctp", b"".join(b"\x00" + c for c in chunks[:1] + chunks[1:][::-1]))

put("xcc_pattern", b"[^00(\\d+)$=>+$1\n^0(\\d+)$=>+4930$1\n004930123456\n030123456\n123\n")
put("xcc_pattern", b"\n^(\\d{3})$=>$1\n+4930123456\n0049301234\n")
PY

cp "$root/testdata/site.toml" "$corpus/site/"
for f in "$root"/testdata/ipoffice/*.toml; do cp "$f" "$corpus/ipo_config/"; done
for t in "$corpus"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
