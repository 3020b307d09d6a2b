#!/usr/bin/env bash
# Regenerates the IP Office routing capture fixtures of this directory (*.pcap) and their
# tshark listings (*.sip.tsv, via oracle.sh).
#
# Every fixture is a real capture: sipp processes play a SIP provider, XCC and an IP
# Office-like callee on the loopback interface while tcpdump records lo. Run it inside a
# network namespace of your own so that no other traffic on lo is captured:
#   ip netns add NS; ip -n NS link set lo up; ip netns exec NS ./make.sh NAME; ip netns del NS
#
# Needs: root (tcpdump on lo), sipp (Debian package sip-tester), tcpdump, tshark, editcap.
#
# Usage: ./make.sh            all fixtures
#        ./make.sh NAME...    only these fixtures (file name without .pcap)
#
# Parties (example.toml describes this IP Office):
#   IP Office 127.0.0.10:5060  answers as the configuration says (uas_ipo.xml / uas_silent.xml)
#   provider  127.0.0.1:5070   the SIP trunk's proxy (line 17 associates by this source)
#   stranger  127.0.0.5:5070   a source no line knows
#   XCC       127.0.0.20:5062, 127.0.0.20:5064 (line 18 associates by From host xcc.example)
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
IPO=127.0.0.10
PROVIDER=127.0.0.1
STRANGER=127.0.0.5
XCC=127.0.0.20
CALLER=+4930999111
IPO_SRV="Server: IP Office 11.1.3.0.0 build 14"

WORK=$(mktemp -d /tmp/ipoffice.XXXXXX)
PIDS=()
TCPDUMP_PID=""

cleanup() {
    local p
    for p in "${PIDS[@]}" $TCPDUMP_PID; do kill "$p" 2>/dev/null || true; done
    if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo "make.sh: command failed at line $LINENO (exit $?); KEEP_WORK=1 keeps $WORK" >&2' ERR

log() { printf '== %s\n' "$*" >&2; }
hex() { printf '%s' "$1" | md5sum | cut -c1-"$2"; }
cid() { printf '%s@%s' "$(hex "$1" 24)" "$2"; }

# ipo NAME SCENARIO CALLS [BUSY_USER CODE REASON]: the IP Office-like callee, in the
# background. uas_ipo.xml is a template: the busy user and code are written into it.
ipo() {
    local name=$1 sf=$2 calls=$3 busy=${4:-nobody-is-busy} code=${5:-486} reason=${6:-Busy Here}
    sed -e "s|@BUSY@|$busy|g" -e "s|@CODE@|$code|g" -e "s|@REASON@|$reason|g" \
        "$HERE/$sf" > "$WORK/$name-$sf"
    (cd "$WORK" && exec sipp -sf "$WORK/$name-$sf" -i $IPO -p 5060 -mi $IPO -mp 40000 \
        -m "$calls" -nd -timeout 20 -timeout_error -trace_err \
        -key tag "$(hex "$name/ipo" 10)" -key srv $'\r\n'"$IPO_SRV" >/dev/null 2>&1) &
    PIDS+=($!)
    sleep 0.3
}

# call NAME IP PORT MEDIA_PORT SCENARIO RURI_USER FROM TALK_MS [LEG [TARGET [XHDR]]]: one
# caller, foreground; TARGET defaults to IP Office (127.0.0.10:5060).
call() {
    local name=$1 ip=$2 port=$3 mport=$4 sf=$5 user=$6 from=$7 talk=$8 leg=${9:-1}
    local target=${10:-$IPO:5060} xhdr=${11:-}
    (cd "$WORK" && exec sipp -sf "$HERE/$sf" -i "$ip" -p "$port" -mi "$ip" -mp "$mport" \
        -m 1 -nd -timeout 20 -timeout_error -d "$talk" -trace_err \
        -cid_str "$(cid "$name/$leg" "$ip")" -key tag "$(hex "$name/caller$leg" 10)" \
        -key ruri "$user@$target" -key from "<sip:$from>" -key to "<sip:$user@${target%:*}>" \
        -key xhdr "$xhdr" "$target" >/dev/null 2>&1)
}

wait_all() {
    local p rc=0
    for p in "${PIDS[@]}"; do wait "$p" || rc=$?; done
    PIDS=()
    return $rc
}

start_capture() {
    CAP="$WORK/$1.pcap"
    tcpdump -i lo -s 0 -U --immediate-mode -n -w "$CAP" "host $IPO" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.1; done
    sleep 0.2
}

stop_capture() {
    sleep 0.5
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
    cp "$CAP" "$HERE/$1.pcap"
    log "$1.pcap: $(tshark -r "$HERE/$1.pcap" 2>/dev/null | wc -l) frames"
}

# ---------------------------------------------------------------------------------------

# A caller no line knows (source 127.0.0.5): IP Office stays silent.
fx_ipo_ignored() {
    start_capture ipo-ignored
    ipo ipo-ignored uas_silent.xml 1
    call ipo-ignored $STRANGER 5070 40010 uac_unanswered.xml 4930555201 "$CALLER@sip.provider.example" 0
    wait_all
    stop_capture ipo-ignored
}

# The provider calls a DID with no route (4930555999): the Auto URI finds no extension,
# IP Office answers line 17's Service Busy Response, 486.
fx_ipo_busy_486() {
    start_capture ipo-busy-486
    ipo ipo-busy-486 uas_ipo.xml 1 4930555999 486 "Busy Here"
    call ipo-busy-486 $PROVIDER 5070 40010 uac_call.xml 4930555999 "$CALLER@sip.provider.example" 0
    wait_all
    stop_capture ipo-busy-486
}

# The provider calls Anna's DID: 100, 180, 200, then BYE after a second.
fx_ipo_routed() {
    start_capture ipo-routed
    ipo ipo-routed uas_ipo.xml 1
    call ipo-routed $PROVIDER 5070 40010 uac_call.xml 4930555201 "$CALLER@sip.provider.example" 1000
    wait_all
    stop_capture ipo-routed
}

# XCC calls anna and holds the call; meanwhile it calls support. Line 18's only URI has
# max_sessions 1, so the second call finds it full: Service Busy Response 503.
fx_ipo_xcc_busy_503() {
    start_capture ipo-xcc-busy-503
    ipo ipo-xcc-busy-503 uas_ipo.xml 2 support 503 "Service Unavailable"
    call ipo-xcc-busy-503 $XCC 5062 40020 uac_call.xml anna "$CALLER@xcc.example" 2000 1 &
    local first=$!
    sleep 0.8
    call ipo-xcc-busy-503 $XCC 5064 40030 uac_call.xml support "$CALLER@xcc.example" 0 2
    wait "$first"
    wait_all
    stop_capture ipo-xcc-busy-503
}

# XCC calls anna, hangs up, then calls support: the first call's BYE frees line 18's
# only session, so the second call is routed too.
fx_ipo_xcc_sequential() {
    start_capture ipo-xcc-sequential
    ipo ipo-xcc-sequential uas_ipo.xml 2
    call ipo-xcc-sequential $XCC 5062 40020 uac_call.xml anna "$CALLER@xcc.example" 300 1
    sleep 0.3
    call ipo-xcc-sequential $XCC 5064 40030 uac_call.xml support "$CALLER@xcc.example" 300 2
    wait_all
    stop_capture ipo-xcc-sequential
}

# A Follow-Me call that starts at the provider: the provider calls Anna's DID (IP Office
# routes it: 100, 180, 200, BYE); meanwhile IP Office (127.0.0.10:5061)
# forwards it to XCC (127.0.0.20:5060) with a Diversion number XCC does not understand
# (00 prefix), and XCC answers 503.
fx_ipo_followme_503() {
    start_capture ipo-followme-503
    ipo ipo-followme-503 uas_ipo.xml 1
    (cd "$WORK" && exec sipp -sf "$HERE/uas_xcc_reject.xml" -i $XCC -p 5060 -mi $XCC -mp 40040 \
        -m 1 -nd -timeout 20 -timeout_error -trace_err -key tag "$(hex ipo-followme-503/xcc 10)" \
        >/dev/null 2>&1) &
    PIDS+=($!)
    sleep 0.3
    call ipo-followme-503 $PROVIDER 5070 40010 uac_call.xml 4930555201 "$CALLER@sip.provider.example" 300 1 &
    local first=$!
    sleep 0.05
    call ipo-followme-503 $IPO 5061 40050 uac_call.xml 799 "$CALLER@$IPO" 0 2 $XCC:5060 \
        $'\r\nDiversion: <sip:004930555201@127.0.0.10>;reason=unconditional\r\nUser-Agent: IP Office 11.1.3.0.0 build 14'
    wait "$first"
    wait_all
    stop_capture ipo-followme-503
}

# The provider calls the sales DID; the capture's clock is moved to Thursday 2026-12-03
# 11:15:00 UTC (12:15 in the system's +01:00, the "lunch" time profile), so that the
# route's bottom time-profiled pair (Ben) is the one that applies.
fx_ipo_time_profile() {
    start_capture ipo-time-profile
    ipo ipo-time-profile uas_ipo.xml 1
    call ipo-time-profile $PROVIDER 5070 40010 uac_call.xml 4930555300 "$CALLER@sip.provider.example" 500
    wait_all
    sleep 0.5
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
    local first shift
    first=$(tshark -r "$CAP" -c 1 -T fields -e frame.time_epoch 2>/dev/null | cut -d. -f1)
    shift=$(( $(date -u -d 2026-12-03T11:15:00Z +%s) - first ))
    editcap -t "$shift" "$CAP" "$HERE/ipo-time-profile.pcap" >/dev/null
    log "ipo-time-profile.pcap: $(tshark -r "$HERE/ipo-time-profile.pcap" 2>/dev/null | wc -l) frames, clock moved by ${shift}s"
}

ALL=(ipo-ignored ipo-busy-486 ipo-routed ipo-xcc-busy-503 ipo-xcc-sequential ipo-followme-503 ipo-time-profile)

if [ $# -gt 0 ]; then LIST=("$@"); else LIST=("${ALL[@]}"); fi
for f in "${LIST[@]}"; do
    log "$f"
    "fx_${f//-/_}"
done
"$HERE/oracle.sh" "${LIST[@]}"
