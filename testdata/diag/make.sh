#!/usr/bin/env bash
# Regenerates the capture fixtures of this directory: encrypted signalling beside other TLS,
# and link types (ERF records, an interface of a link type sipdiag does not decode).
#
# The TLS captures are real: openssl s_server / s_client talk over loopback while tcpdump
# records lo. The link-type captures rewrap the frames of a real capture
# (../followme/sip001-invite-failed.pcap) with erf.py (stdlib only). Run as root, inside a
# network namespace of your own so that nobody else's loopback traffic is recorded:
#   ip netns add NS; ip -n NS link set lo up; ip netns exec NS ./make.sh [NAME...]
#
# Needs: openssl, tcpdump, tshark, python3. Usage: ./make.sh (all) or ./make.sh NAME...
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/sipdiag-diag.XXXXXX)
PIDS=()
TCPDUMP_PID=""

cleanup() {
    local p
    for p in "${PIDS[@]}" $TCPDUMP_PID; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '== %s\n' "$*" >&2; }

start_capture() {
    CAP="$WORK/$1"
    tcpdump -i lo -s 0 -U --immediate-mode -n -w "$CAP" "$2" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.1; done
    sleep 0.2
}

stop_capture() {
    sleep 0.5
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
    cp "$CAP" "$HERE/$1"
    log "$1: $(tshark -r "$HERE/$1" 2>/dev/null | wc -l) frames"
}

wait_listen() {
    local i
    for i in $(seq 1 100); do ss -Hlnt | awk '{print $4}' | grep -qF "$1" && return 0; sleep 0.1; done
    echo "nothing listens on $1" >&2; return 1
}

cert() {
    [ -f "$WORK/tls.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -days 3650 -subj /CN=xcc.sipdiag.test -keyout "$WORK/tls.key" \
        -out "$WORK/tls.crt" 2>/dev/null
}

# tls_conn CLIENT_IP SERVER_IP PORT CLIENT_TEXT SERVER_TEXT: one TLS 1.3 connection; each
# side sends its text inside TLS application data, then both close.
tls_conn() {
    local cip=$1 sip=$2 port=$3 ctext=$4 stext=$5
    cert
    { sleep 0.8; printf '%b' "$stext"; sleep 0.8; } |
        timeout 20 openssl s_server -accept "$sip:$port" -naccept 1 -cert "$WORK/tls.crt" \
            -key "$WORK/tls.key" -quiet >"$WORK/server-$port.log" 2>&1 &
    local spid=$!
    PIDS+=($spid)
    wait_listen "$sip:$port"
    { printf '%b' "$ctext"; sleep 1.2; } |
        timeout 20 openssl s_client -connect "$sip:$port" -bind "$cip:0" -quiet \
            >"$WORK/client-$port.log" 2>&1 || true
    wait "$spid" || true
    grep -q . "$WORK/server-$port.log" || { echo "TLS server on $port got nothing" >&2; return 1; }
}

OPTIONS_TLS='OPTIONS sip:xcc@127.0.0.20:5061;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.10;branch=z9hG4bK-diag-1\r\nMax-Forwards: 70\r\nFrom: <sip:pbx@127.0.0.10>;tag=diag-1\r\nTo: <sip:xcc@127.0.0.20>\r\nCall-ID: diag-tls-1@127.0.0.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
OK_TLS='SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.10;branch=z9hG4bK-diag-1\r\nFrom: <sip:pbx@127.0.0.10>;tag=diag-1\r\nTo: <sip:xcc@127.0.0.20>;tag=diag-2\r\nCall-ID: diag-tls-1@127.0.0.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
HTTP_GET='GET /status HTTP/1.1\r\nHost: 127.0.0.30\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n'
HTTP_OK='HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n'
SOFTPHONE='{"type":"register","user":"+4930123456"}\n'

# Three TLS connections, one after the other: PBX 127.0.0.10 -> XCC 127.0.0.20:5061 (SIP
# OPTIONS/200 inside TLS), softphone client 127.0.0.40 -> XCC 127.0.0.20:2230 (the softphone
# signalling port), and 127.0.0.40 -> a web server 127.0.0.30:443 (HTTPS). No SIP in clear.
fx_tls_signalling_and_https() {
    start_capture tls-signalling-and-https.pcap 'tcp'
    tls_conn 127.0.0.10 127.0.0.20 5061 "$OPTIONS_TLS" "$OK_TLS"
    tls_conn 127.0.0.40 127.0.0.20 2230 "$SOFTPHONE" "$SOFTPHONE"
    tls_conn 127.0.0.40 127.0.0.30 443 "$HTTP_GET" "$HTTP_OK"
    stop_capture tls-signalling-and-https.pcap
}

# Only the HTTPS connection: TLS that is not signalling.
fx_https_only() {
    start_capture https-only.pcap 'tcp'
    tls_conn 127.0.0.40 127.0.0.30 443 "$HTTP_GET" "$HTTP_OK"
    stop_capture https-only.pcap
}

# The frames of ../followme/sip001-invite-failed.pcap as ERF Ethernet records (ERF type 2,
# 16-byte ERF header + 2-byte pad) in a pcapng interface of link type 197 (LINKTYPE_ERF);
# every second record carries one ERF extension header (type bit 7 set).
fx_erf_sip_call() {
    python3 "$HERE/erf.py" erf "$HERE/../followme/sip001-invite-failed.pcap" "$HERE/erf-sip-call.pcapng"
    log "erf-sip-call.pcapng: $(tshark -r "$HERE/erf-sip-call.pcapng" 2>/dev/null | wc -l) frames"
}

# The same frames, whole Ethernet frames, in a pcapng interface of link type 147
# (LINKTYPE_USER0, reserved for private use): a link type sipdiag does not decode.
fx_unknown_linktype() {
    python3 "$HERE/erf.py" user0 "$HERE/../followme/sip001-invite-failed.pcap" "$HERE/unknown-linktype.pcapng"
    log "unknown-linktype.pcapng: $(tshark -r "$HERE/unknown-linktype.pcapng" 2>/dev/null | wc -l) frames"
}

# Two interfaces: the frames on an Ethernet interface (frames 1-4, SIP), then again on a
# LINKTYPE_USER0 interface (frames 5-8, one second later).
fx_mixed_linktypes() {
    python3 "$HERE/erf.py" mixed "$HERE/../followme/sip001-invite-failed.pcap" "$HERE/mixed-linktypes.pcapng"
    log "mixed-linktypes.pcapng: $(tshark -r "$HERE/mixed-linktypes.pcapng" 2>/dev/null | wc -l) frames"
}

# ERF records of a type sipdiag does not decode: the first 48 bytes of each frame as an ERF
# ATM cell record (type 3), link type 197.
fx_erf_atm() {
    python3 "$HERE/erf.py" atm "$HERE/../followme/sip001-invite-failed.pcap" "$HERE/erf-atm.pcapng"
    log "erf-atm.pcapng: $(tshark -r "$HERE/erf-atm.pcapng" 2>/dev/null | wc -l) frames"
}

ALL=(tls-signalling-and-https https-only erf-sip-call unknown-linktype mixed-linktypes erf-atm)

if [ $# -gt 0 ]; then LIST=("$@"); else LIST=("${ALL[@]}"); fi
for f in "${LIST[@]}"; do
    log "$f"
    "fx_${f//-/_}"
done
cd "$HERE"
files=(); for f in "${LIST[@]}"; do for x in "$f".pcap "$f".pcapng; do [ -f "$x" ] && files+=("$x"); done; done
"$HERE/oracle.sh" "${files[@]}"
