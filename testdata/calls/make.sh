#!/usr/bin/env bash
# Regenerates the call-grouping fixtures of this directory (*.pcap) and their tshark
# listings (*.sip.tsv, via oracle.sh).
#
# Every fixture is a real capture of real user agents on the loopback interface, recorded by
# tcpdump. Run it inside a network namespace of your own so that no other traffic on lo
# is recorded:  ip netns add NS; ip -n NS link set lo up; ip netns exec NS ./make.sh
#
# Needs: root (tcpdump on lo), tcpdump, tshark, python3 (stdlib only).
#
# Usage: ./make.sh            all fixtures
#        ./make.sh NAME...    only these fixtures (file name without .pcap)
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/calls.XXXXXX)
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
    local name=$1 filter=$2
    CAP="$WORK/$name.pcap"
    tcpdump -i lo -s 0 -U --immediate-mode -n -w "$CAP" "$filter" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.1; done
    sleep 0.2
}

stop_capture() {
    local name=$1
    sleep 0.5
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
    cp "$CAP" "$HERE/$name.pcap"
    log "$name.pcap: $(tshark -r "$HERE/$name.pcap" 2>/dev/null | wc -l) frames"
}

# INVITE -> 100 -> 404 -> ACK and OPTIONS -> 200, every message without a Call-ID header,
# between two Python user agents (nocallid.py): 127.0.0.50 calls 127.0.0.60.
fx_no_call_id_404() {
    local name=no-call-id-404
    start_capture $name "host 127.0.0.50 or host 127.0.0.60"
    python3 "$HERE/nocallid.py" uas 127.0.0.60 5060 & PIDS+=($!)
    sleep 0.3
    python3 "$HERE/nocallid.py" uac 127.0.0.50 5060 127.0.0.60 5060
    wait "${PIDS[@]}"; PIDS=()
    stop_capture $name
}

ALL=(no-call-id-404)

if [ $# -gt 0 ]; then LIST=("$@"); else LIST=("${ALL[@]}"); fi
for f in "${LIST[@]}"; do
    log "$f"
    "fx_${f//-/_}"
done
"$HERE/oracle.sh" "${LIST[@]}"
