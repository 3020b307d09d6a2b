#!/usr/bin/env bash
# Regenerates the media fixtures of testdata/media from real traffic.
#
# Every capture is taken with tcpdump on the loopback interface of a private
# network namespace (created here, deleted on exit), so nothing leaves the
# machine and no other traffic can leak into a fixture.  Needs root, tcpdump,
# sipp, python3 (stdlib only) and ip(8); tshark for ./oracle.sh.
#
#   ./make.sh            all fixtures, then ./oracle.sh
#   ./make.sh NAME...    only the named fixtures (e.g. ice-blocked)
#
# Transaction ids, tie-breakers, TCP sequence numbers and timestamps differ
# from run to run; the flow structure (and normally the frame numbers) does
# not.  README.md documents the committed files; re-run ./oracle.sh after
# regenerating and update README.md if frame numbers moved.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

CLIENT=127.0.0.50
SERVER=127.0.0.60
SERVER_MEDIA2=127.0.0.61
UAC=127.0.0.70
UAS=127.0.0.80
UAS2=127.0.0.81
BACNET_DEVICE=127.0.0.90
BACNET_CLIENT=127.0.0.91

WORK=$(mktemp -d)
NS=""
TCPDUMP_PID=""
cleanup() {
    if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null || true; wait "$TCPDUMP_PID" 2>/dev/null || true; fi
    if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ns_up() {
    NS="sipdiag-media-$$-$1"
    ip netns add "$NS"
    ip -n "$NS" link set lo up
}

ns_down() {
    ip netns del "$NS"
    NS=""
}

# capture_start OUT FILTER: tcpdump in the namespace, returns once it listens
capture_start() {
    local out=$1 filter=$2
    ip netns exec "$NS" tcpdump -i lo -s 0 -U --immediate-mode -n -w "$out" "$filter" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "tcpdump did not start" >&2
    cat "$WORK/tcpdump.err" >&2
    return 1
}

capture_stop() {
    sleep 0.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    TCPDUMP_PID=""
    grep -E "packets (captured|dropped by kernel)" "$WORK/tcpdump.err" >&2 || true
}

# softphone NAME SERVER_MEDIA "server options" "client options"
softphone() {
    local name=$1 smedia=$2 sopts=$3 copts=$4
    echo "== $name" >&2
    ns_up "$name"
    capture_start "$WORK/$name.pcap" "host $CLIENT or host $SERVER or host $SERVER_MEDIA2"
    rm -f "$WORK/ready"
    mkfifo "$WORK/ready"
    # shellcheck disable=SC2086
    ip netns exec "$NS" timeout 30 python3 softphone.py server --sig $SERVER:2230 --media "$smedia" $sopts \
        >"$WORK/ready" 2>"$WORK/$name.server.log" &
    local spid=$!
    read -r _ <"$WORK/ready"
    # shellcheck disable=SC2086
    ip netns exec "$NS" timeout 30 python3 softphone.py client --sig $SERVER:2230 --local-sig $CLIENT:41230 \
        --media $CLIENT:49200 $copts 2>"$WORK/$name.client.log"
    wait "$spid"
    capture_stop
    ns_down
    cat "$WORK/$name.server.log" "$WORK/$name.client.log" | sort -n | sed 's/^/    /' >&2
    cp "$WORK/$name.pcap" "$HERE/$name.pcap"
}

# sip_call NAME "uas scenario" : sipp UAC (plays RTP) against a sipp UAS
sip_call() {
    local name=$1 uas_xml=$2
    echo "== $name" >&2
    python3 rtp.py pcap "$WORK/uac-audio.pcap" --ssrc 0x3C5A0B11 --first-seq 21001 --freq 440
    python3 rtp.py pcap "$WORK/uas-audio.pcap" --ssrc 0x4D6E1F22 --first-seq 31001 --freq 660
    cp sip-uac.xml sip-uas-*.xml "$WORK/"
    ns_up "$name"
    capture_start "$WORK/$name.pcap" "host $UAC or host $UAS"
    (cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$uas_xml" -i $UAS -p 5060 -mi $UAS -mp 40000 \
        -m 1 -timeout 30s -timeout_error -nostdin >"$WORK/$name.uas.out" 2>&1) &
    local uas_pid=$!
    sleep 0.5
    (cd "$WORK" && ip netns exec "$NS" sipp -sf sip-uac.xml -i $UAC -p 5060 -mi $UAC -mp 20000 \
        -cid_str "$name-%u@%s" -s bob $UAS:5060 -m 1 -timeout 30s -timeout_error -nostdin \
        >"$WORK/$name.uac.out" 2>&1) || { echo "sipp UAC failed" >&2; tail -5 "$WORK/$name.uac.out" >&2; }
    wait "$uas_pid" || { echo "sipp UAS failed" >&2; tail -5 "$WORK/$name.uas.out" >&2; }
    capture_stop
    ns_down
    cp "$WORK/$name.pcap" "$HERE/$name.pcap"
}

# reused_ports NAME: three sipp calls from one UAC on the same media ports in one
# capture, as a PBX reuses its RTP ports: the first to the UAS answered without any RTP
# either way, the second to another UAS with audio both ways, the third to the first
# UAS again with audio from the UAC only (one-way).
reused_ports() {
    local name=$1 uac uas at n=0
    echo "== $name" >&2
    python3 rtp.py pcap "$WORK/uac-audio.pcap" --ssrc 0x3C5A0B11 --first-seq 21001 --freq 440
    python3 rtp.py pcap "$WORK/uas-audio.pcap" --ssrc 0x4D6E1F22 --first-seq 31001 --freq 660
    cp sip-uac.xml sip-uac-silent.xml sip-uas-*.xml "$WORK/"
    ns_up "$name"
    capture_start "$WORK/$name.pcap" "host $UAC or host $UAS or host $UAS2"
    for call in "sip-uac-silent.xml sip-uas-silent.xml $UAS" "sip-uac.xml sip-uas-audio.xml $UAS2" \
        "sip-uac.xml sip-uas-silent.xml $UAS"; do
        read -r uac uas at <<<"$call"
        n=$((n + 1))
        (cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$uas" -i "$at" -p 5060 -mi "$at" -mp 40000 \
            -m 1 -timeout 30s -timeout_error -nostdin >"$WORK/$name.uas.out" 2>&1) &
        local uas_pid=$!
        sleep 0.5
        (cd "$WORK" && ip netns exec "$NS" sipp -sf "$uac" -i $UAC -p 5060 -mi $UAC -mp 20000 \
            -cid_str "$name-$n-${uas%.xml}-%u@%s" -s bob "$at:5060" -m 1 -timeout 30s -timeout_error \
            -nostdin >"$WORK/$name.uac.out" 2>&1) || { echo "sipp UAC failed" >&2; tail -5 "$WORK/$name.uac.out" >&2; }
        wait "$uas_pid" || { echo "sipp UAS failed" >&2; tail -5 "$WORK/$name.uas.out" >&2; }
        sleep 1
    done
    capture_stop
    ns_down
    cp "$WORK/$name.pcap" "$HERE/$name.pcap"
}

# codec_call NAME: sipp UAC and UAS with wide-band audio and video (sip-u?c-codecs.xml):
# L16/48000 from the UAC, speex/32000 from the UAS, H.263 video from the UAC with one packet
# in ten left out, and video on payload type 99 (not in the offer) from the UAS, also lossy.
codec_call() {
    local name=$1
    echo "== $name" >&2
    python3 rtp.py pcap "$WORK/uac-audio.pcap" --ssrc 0x5A160001 --first-seq 41001 \
        --pt 96 --clock 48000 --ptime 10 --count 200 --payload-bytes 960
    python3 rtp.py pcap "$WORK/uas-audio.pcap" --ssrc 0x5BEE0002 --first-seq 51001 \
        --pt 97 --clock 32000 --payload-bytes 70
    python3 rtp.py pcap "$WORK/uac-video.pcap" --ssrc 0x26300003 --first-seq 61001 \
        --pt 34 --clock 90000 --ptime 40 --count 60 --skip-every 10 --payload-bytes 600
    python3 rtp.py pcap "$WORK/uas-video.pcap" --ssrc 0x99000004 --first-seq 7001 \
        --pt 99 --clock 90000 --ptime 40 --count 60 --skip-every 10 --payload-bytes 600
    cp sip-uac-codecs.xml sip-uas-codecs.xml "$WORK/"
    ns_up "$name"
    capture_start "$WORK/$name.pcap" "host $UAC or host $UAS"
    (cd "$WORK" && exec ip netns exec "$NS" sipp -sf sip-uas-codecs.xml -i $UAS -p 5060 -mi $UAS -mp 40000 \
        -m 1 -timeout 30s -timeout_error -nostdin >"$WORK/$name.uas.out" 2>&1) &
    local uas_pid=$!
    sleep 0.5
    (cd "$WORK" && ip netns exec "$NS" sipp -sf sip-uac-codecs.xml -i $UAC -p 5060 -mi $UAC -mp 20000 \
        -cid_str "$name-%u@%s" -s bob $UAS:5060 -m 1 -timeout 30s -timeout_error -nostdin \
        >"$WORK/$name.uac.out" 2>&1) || { echo "sipp UAC failed" >&2; tail -5 "$WORK/$name.uac.out" >&2; }
    wait "$uas_pid" || { echo "sipp UAS failed" >&2; tail -5 "$WORK/$name.uas.out" >&2; }
    capture_stop
    ns_down
    cp "$WORK/$name.pcap" "$HERE/$name.pcap"
}

# bacnet NAME: a BACnet/IP client polling a device on UDP 47808 (bacnet.py), no SIP at all
bacnet() {
    local name=$1
    echo "== $name" >&2
    ns_up "$name"
    capture_start "$WORK/$name.pcap" "udp port 47808"
    rm -f "$WORK/ready"
    mkfifo "$WORK/ready"
    ip netns exec "$NS" timeout 30 python3 bacnet.py device --addr $BACNET_DEVICE >"$WORK/ready" &
    local dpid=$!
    read -r _ <"$WORK/ready"
    ip netns exec "$NS" timeout 30 python3 bacnet.py client --addr $BACNET_CLIENT --device $BACNET_DEVICE
    wait "$dpid"
    capture_stop
    ns_down
    cp "$WORK/$name.pcap" "$HERE/$name.pcap"
}

selected() {
    local n=$1; shift
    [ ${#SELECT[@]} -eq 0 ] && return 0
    local s; for s in "${SELECT[@]}"; do [ "$s" = "$n" ] && return 0; done
    return 1
}
SELECT=("$@")

selected ice-ok-rtp     && softphone ice-ok-rtp     $SERVER:30010        ""                          ""
selected ice-blocked    && softphone ice-blocked    $SERVER:30010        "--firewall"                "--firewall"
selected ice-one-way    && softphone ice-one-way    $SERVER:30010        ""                          "--firewall"
selected media-missing  && softphone media-missing  $SERVER:30010        "--no-media"                "--no-media"
selected multihomed     && softphone multihomed     $SERVER_MEDIA2:30010 "--firewall --no-checks"    ""
selected rtp-loss       && softphone rtp-loss       $SERVER:30010        ""                          "--skip-every 10"
selected sip-rtp-one-way && sip_call sip-rtp-one-way sip-uas-silent.xml
selected sip-rtp-both    && sip_call sip-rtp-both    sip-uas-audio.xml
selected reused-ports    && reused_ports reused-ports
selected ice-blocked-two-pairs && softphone ice-blocked-two-pairs $SERVER:30010 "--firewall" "--firewall --media2 $CLIENT:49202"
selected ice-one-way-two-pairs && softphone ice-one-way-two-pairs $SERVER:30010 "--check-all-candidates" "--firewall --media2 $CLIENT:49202"
selected clock-rates     && codec_call clock-rates
selected bacnet-udp      && bacnet bacnet-udp

if command -v tshark >/dev/null; then ./oracle.sh; fi
