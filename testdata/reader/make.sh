#!/usr/bin/env bash
# Regenerates the capture-reader fixtures in testdata/reader/ with real SIP stacks.
#
# Needs root (tcpdump, network namespaces), sipp, tcpdump, tshark/editcap/mergecap/capinfos,
# openssl, python3, iproute2 and nftables (`apt-get install -y sip-tester tcpdump tshark
# openssl iproute2 nftables`).  All traffic runs inside network namespaces created here and
# deleted on exit: sipdiag-rd-lo (its own loopback, 127.0.0.10 <-> 127.0.0.20, so other
# programs on the host's loopback never show up in the captures) and sipdiag-rd-a/-m/-b
# (two hosts joined through a bridge, MTU 1500).
#
# Usage: sudo testdata/reader/make.sh            (then testdata/reader/oracle.sh)
# Every run produces fresh captures (new timestamps, ports, tags); Call-IDs and the message
# sequence stay the same.  Rerun oracle.sh afterwards to refresh expected/*.tsv.
set -euo pipefail

cd "$(dirname "$0")"
HERE=$(pwd)
SC=$HERE/scenarios
WORK=$(mktemp -d /tmp/sipdiag-reader.XXXXXX)
NS_L=sipdiag-rd-lo  # loopback-only namespace: 127.0.0.10 (caller) <-> 127.0.0.20 (callee)
NS_A=sipdiag-rd-a   # calling side, 192.0.2.10 / 2001:db8::10, MAC 02:00:00:00:00:0a
NS_M=sipdiag-rd-m   # bridge between A and B
NS_B=sipdiag-rd-b   # called side, 192.0.2.20 / 2001:db8::20, MAC 02:00:00:00:00:14
PIDS=()

for tool in sipp tcpdump tshark editcap mergecap capinfos openssl python3 ip nft gzip; do
    command -v "$tool" >/dev/null || { echo "make.sh: missing tool: $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "make.sh: must run as root" >&2; exit 1; }

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for ns in $NS_L $NS_A $NS_M $NS_B; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "== $*" >&2; }

# ---------------------------------------------------------------------------- helpers
# in_ns NS cmd...: run in namespace NS
in_ns() {
    local ns=$1; shift
    ip netns exec "$ns" "$@"
}

# cap_start NS OUT tcpdump-args...: start tcpdump writing OUT, wait until it listens
cap_start() {
    local ns=$1 out=$2; shift 2
    local err=$WORK/tcpdump.$RANDOM.err
    ip netns exec "$ns" tcpdump -Z root -s 0 -U --immediate-mode -n -w "$out" "$@" 2>"$err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 100); do
        grep -q 'listening on' "$err" && return 0
        sleep 0.1
    done
    cat "$err" >&2
    echo "tcpdump did not start" >&2
    exit 1
}

cap_stop() {
    sleep 1
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
}

# wait_port NS PROTO IP PORT: wait until something listens there
wait_port() {
    local ns=$1 proto=$2 ip=$3 port=$4 i
    [[ $ip == *:* ]] && ip="[$ip]"
    for i in $(seq 100); do
        if in_ns "$ns" ss -Hln"${proto:0:1}" | awk '{print $4}' | grep -qF "$ip:$port"; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listening on $ip:$port/$proto" >&2
    exit 1
}

# sipp_call NS_UAS UAS_IP NS_UAC UAC_IP PORT TRANSPORT CALL_ID_PREFIX [UAC_SCENARIO]
#   one call: sipp UAS (scenarios/uas.xml) on UAS_IP:PORT, sipp UAC from UAC_IP:PORT.
#   TRANSPORT is u1 (UDP) or t1 (TCP).  The Call-ID is "<prefix>-1@<uac ip>".
sipp_call() {
    local ns_uas=$1 uas_ip=$2 ns_uac=$3 uac_ip=$4 port=$5 tr=$6 cid=$7 scen=${8:-$SC/uac.xml}
    local remote=$uas_ip
    [[ $uas_ip == *:* ]] && remote="[$uas_ip]"
    local proto=udp
    [ "$tr" = t1 ] && proto=tcp
    ip netns exec "$ns_uas" sipp -sf "$SC/uas.xml" -i "$uas_ip" -p "$port" -t "$tr" -m 1 \
        -timeout 30s -timeout_error -nostdin >"$WORK/uas.log" 2>&1 &
    local uas_pid=$!
    PIDS+=("$uas_pid")
    wait_port "$ns_uas" "$proto" "$uas_ip" "$port"
    in_ns "$ns_uac" sipp -sf "$scen" -i "$uac_ip" -p "$port" -t "$tr" -m 1 \
        -timeout 30s -timeout_error -nostdin -cid_str "$cid-%u@$uac_ip" -s 2001 \
        "$remote:$port" >"$WORK/uac.log" 2>&1 || { cat "$WORK/uac.log" >&2; exit 1; }
    wait "$uas_pid" || { cat "$WORK/uas.log" >&2; exit 1; }
}

# lo_call OUT CALL_ID_PREFIX [extra tcpdump args...]: one UDP sipp call in the loopback namespace
LO_FILTER='host 127.0.0.10 or host 127.0.0.20'
lo_call() {
    local out=$1 cid=$2; shift 2
    cap_start $NS_L "$out" -i lo "$@" "$LO_FILTER"
    sipp_call $NS_L 127.0.0.20 $NS_L 127.0.0.10 5060 u1 "$cid"
    cap_stop
}

ns_up() {
    ns_down
    ip netns add $NS_L
    ip -n $NS_L link set lo up
    ip netns add $NS_A
    ip netns add $NS_M
    ip netns add $NS_B
    ip link add veth-a netns $NS_A type veth peer name port-a netns $NS_M
    ip link add veth-b netns $NS_B type veth peer name port-b netns $NS_M
    in_ns $NS_M sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $NS_M link add br-ab type bridge
    ip -n $NS_M link set port-a master br-ab
    ip -n $NS_M link set port-b master br-ab
    ip -n $NS_M link set port-a mtu 1500 up
    ip -n $NS_M link set port-b mtu 1500 up
    ip -n $NS_M link set br-ab up
    local ns dev mac v4 v6 pv4 pv6 pmac
    for spec in "$NS_A veth-a 02:00:00:00:00:0a 192.0.2.10 2001:db8::10 192.0.2.20 2001:db8::20 02:00:00:00:00:14" \
                "$NS_B veth-b 02:00:00:00:00:14 192.0.2.20 2001:db8::20 192.0.2.10 2001:db8::10 02:00:00:00:00:0a"; do
        read -r ns dev mac v4 v6 pv4 pv6 pmac <<<"$spec"
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set "$dev" address "$mac" mtu 1500 up
        ip -n "$ns" addr add "$v4/24" dev "$dev"
        ip -n "$ns" addr add "$v6/64" dev "$dev" nodad
        # static neighbours: no ARP / neighbour discovery in the captures
        ip -n "$ns" neigh replace "$pv4" lladdr "$pmac" dev "$dev" nud permanent
        ip -n "$ns" neigh replace "$pv6" lladdr "$pmac" dev "$dev" nud permanent
    done
    sleep 1
}

ns_down() {
    for ns in $NS_L $NS_A $NS_M $NS_B; do ip netns del "$ns" 2>/dev/null || true; done
}

rm -f ./*.pcap ./*.pcapng ./*.pcap.gz tls.keylog
ns_up

# ---------------------------------------------------------------------------- 1 udp-call
log udp-call.pcap
lo_call udp-call.pcap udp-call

# ---------------------------------------------------------------------------- 1b pcapng records
# The sample call as pcapng, with records that are not packets between its packets: Wireshark
# numbers journal entries and custom blocks as frames, the others not.
log pcapng-records.pcapng
editcap -F pcapng udp-call.pcap "$WORK/udp-call.pcapng"
python3 pcaptool.py ngblocks "$WORK/udp-call.pcapng" pcapng-records.pcapng

# ---------------------------------------------------------------------------- 2/3 TCP
# sipclient.py (127.0.0.10) against a real sipp UAS over one TCP connection (-t t1).
tcp_client_call() {
    local out=$1 mode=$2 cid=$3
    cap_start $NS_L "$out" -i lo "$LO_FILTER"
    ip netns exec $NS_L sipp -sf "$SC/uas.xml" -i 127.0.0.20 -p 5060 -t t1 -m 1 -timeout 30s -timeout_error \
        -nostdin >"$WORK/uas.log" 2>&1 &
    local uas_pid=$!
    PIDS+=("$uas_pid")
    wait_port $NS_L tcp 127.0.0.20 5060
    in_ns $NS_L timeout 30 python3 "$HERE/sipclient.py" "$mode" 127.0.0.10 127.0.0.20 5060 "$cid"
    wait "$uas_pid" || { cat "$WORK/uas.log" >&2; exit 1; }
    cap_stop
}
log tcp-split.pcap
tcp_client_call tcp-split.pcap split tcp-split-1@127.0.0.10
log tcp-two-in-one.pcap
tcp_client_call tcp-two-in-one.pcap twoinone tcp-two-in-one-1@127.0.0.10

# ---------------------------------------------------------------------------- A - M - B
# 4 tcp-ooo-retrans: real kernel TCP between A and B through the bridge in M.
#   - M's bridge drops the first data segment A->B once (the first half of the INVITE), so
#     the second half is captured before the retransmitted first half (out of order);
#   - B's input hook drops the BYE once after the capture point, so the capture holds the
#     BYE and its kernel retransmission.
log tcp-ooo-retrans.pcap
in_ns $NS_M nft -f - <<'EOF'
table bridge rd {
    set seen { type inet_service; flags dynamic; }
    chain drop_first_invite_segment {
        type filter hook forward priority 0; policy accept;
        ether type ip ip saddr 192.0.2.10 tcp dport 5060 ip length > 100 tcp sport @seen accept
        ether type ip ip saddr 192.0.2.10 tcp dport 5060 ip length > 100 add @seen { tcp sport } drop
    }
}
EOF
in_ns $NS_B nft -f - <<'EOF'
table inet rd {
    set seen { type inet_service; flags dynamic; }
    chain drop_first_bye {
        type filter hook input priority 0; policy accept;
        tcp dport 5060 @ih,0,32 0x42594520 tcp sport @seen accept
        tcp dport 5060 @ih,0,32 0x42594520 add @seen { tcp sport } drop
    }
}
EOF
cap_start $NS_B tcp-ooo-retrans.pcap -i veth-b 'tcp port 5060'
ip netns exec $NS_B sipp -sf "$SC/uas.xml" -i 192.0.2.20 -p 5060 -t t1 -m 1 -timeout 30s -timeout_error \
    -nostdin >"$WORK/uas.log" 2>&1 &
uas_pid=$!
PIDS+=("$uas_pid")
wait_port $NS_B tcp 192.0.2.20 5060
in_ns $NS_A timeout 30 python3 "$HERE/sipclient.py" ooo 192.0.2.10 192.0.2.20 5060 \
    tcp-ooo-retrans-1@192.0.2.10
wait "$uas_pid" || { cat "$WORK/uas.log" >&2; exit 1; }
cap_stop
in_ns $NS_M nft delete table bridge rd
in_ns $NS_B nft delete table inet rd

# 5 ipfrag: a 2.4 KB INVITE over UDP, MTU 1500 -> the sending kernel fragments it.
log ipfrag-v4.pcap
cap_start $NS_A ipfrag-v4.pcap -i veth-a 'ip and udp'
sipp_call $NS_B 192.0.2.20 $NS_A 192.0.2.10 5060 u1 ipfrag-v4 "$SC/uac-big.xml"
cap_stop
log ipfrag-v6.pcap
cap_start $NS_A ipfrag-v6.pcap -i veth-a 'ip6 and (udp or ip6[6] == 44)'
sipp_call $NS_B 2001:db8::20 $NS_A 2001:db8::10 5060 u1 ipfrag-v6 "$SC/uac-big.xml"
cap_stop

# 6 vlan: real calls between A and B captured on veth-a, then tagged by pcaptool.py
# (this kernel has no 802.1Q support, so the tags are inserted into the captured frames).
log vlan.pcap
cap_start $NS_A "$WORK/vlan-untagged.pcap" -i veth-a 'udp port 5060'
sipp_call $NS_B 192.0.2.20 $NS_A 192.0.2.10 5060 u1 vlan
cap_stop
python3 pcaptool.py vlan "$WORK/vlan-untagged.pcap" vlan.pcap 100
log vlan-qinq.pcap
cap_start $NS_A "$WORK/qinq-untagged.pcap" -i veth-a 'udp port 5060'
sipp_call $NS_B 192.0.2.20 $NS_A 192.0.2.10 5060 u1 vlan-qinq
cap_stop
python3 pcaptool.py vlan "$WORK/qinq-untagged.pcap" vlan-qinq.pcap 100 200

# ---------------------------------------------------------------------------- 7 cooked
log sll2.pcap
cap_start $NS_L sll2.pcap -i any -y LINUX_SLL2 "$LO_FILTER"
sipp_call $NS_L 127.0.0.20 $NS_L 127.0.0.10 5060 u1 sll2
cap_stop
log sll.pcap
cap_start $NS_L sll.pcap -i any -y LINUX_SLL "$LO_FILTER"
sipp_call $NS_L 127.0.0.20 $NS_L 127.0.0.10 5060 u1 sll
cap_stop

# ---------------------------------------------------------------------------- 8 two link types
log two-linktypes.pcapng
lo_call "$WORK/tl-eth.pcap" two-linktypes-eth
cap_start $NS_L "$WORK/tl-sll.pcap" -i any -y LINUX_SLL "$LO_FILTER"
sipp_call $NS_L 127.0.0.20 $NS_L 127.0.0.10 5060 u1 two-linktypes-sll
cap_stop
mergecap -a -F pcapng -w two-linktypes.pcapng "$WORK/tl-eth.pcap" "$WORK/tl-sll.pcap"

# ---------------------------------------------------------------------------- 9 gzip
log gzipped.pcap.gz gzipped-noext.pcap
lo_call "$WORK/gzipped.pcap" gzipped
gzip -9 -n -c "$WORK/gzipped.pcap" >gzipped.pcap.gz
cp gzipped.pcap.gz gzipped-noext.pcap

# ---------------------------------------------------------------------------- 10 truncated
# cut in the middle of the BYE record (the 6th of 7 records)
log truncated.pcap
lo_call "$WORK/truncated-full.pcap" truncated
read -r _ off incl _ < <(python3 pcaptool.py records "$WORK/truncated-full.pcap" | sed -n 6p)
head -c $((off + 16 + incl / 2)) "$WORK/truncated-full.pcap" >truncated.pcap

# ---------------------------------------------------------------------------- 11 snaplen
log snaplen-cut.pcap
lo_call "$WORK/snaplen-full.pcap" snaplen-cut
editcap -s 200 "$WORK/snaplen-full.pcap" snaplen-cut.pcap

# ---------------------------------------------------------------------------- 12 nsec / BE
log nsec.pcap
lo_call "$WORK/nsec-us.pcap" nsec
editcap -F nsecpcap "$WORK/nsec-us.pcap" nsec.pcap
log bigendian.pcap
lo_call "$WORK/bigendian-le.pcap" bigendian
python3 pcaptool.py bigendian "$WORK/bigendian-le.pcap" bigendian.pcap

# ---------------------------------------------------------------------------- 13 port 5080
log sip-on-5080.pcap
cap_start $NS_L sip-on-5080.pcap -i lo "$LO_FILTER"
sipp_call $NS_L 127.0.0.20 $NS_L 127.0.0.10 5080 u1 port5080
cap_stop

# ---------------------------------------------------------------------------- 14 bad inputs
log bad inputs
cat >not-a-capture.pcap <<'EOF'
This is a plain text file, not a packet capture.
INVITE sip:2001@127.0.0.20 SIP/2.0
It only looks like SIP; a capture reader must reject it cleanly.
EOF
: >empty.pcap
python3 pcaptool.py random random.pcap 4096 20240501
lo_call "$WORK/corrupt-base.pcap" corrupt-record
python3 pcaptool.py corrupt "$WORK/corrupt-base.pcap" corrupt-record.pcap 4 0x7fffffff

# ---------------------------------------------------------------------------- 15 WebSocket
log ws.pcap
cap_start $NS_L ws.pcap -i lo "$LO_FILTER"
ip netns exec $NS_L timeout 30 python3 ws.py server 127.0.0.20 5066 &
ws_pid=$!
PIDS+=("$ws_pid")
wait_port $NS_L tcp 127.0.0.20 5066
in_ns $NS_L timeout 30 python3 ws.py client 127.0.0.10 127.0.0.20 5066 ws-1
wait "$ws_pid"
cap_stop

# ---------------------------------------------------------------------------- 16 TLS
log tls.pcap
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj /CN=xcc.sipdiag.test -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
cap_start $NS_L tls.pcap -i lo "$LO_FILTER"
{ sleep 1.5
  printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.10;branch=z9hG4bK-tls-1\r\nFrom: <sip:1001@127.0.0.10>;tag=tls-1\r\nTo: <sip:2001@127.0.0.20>;tag=tls-2\r\nCall-ID: tls-1@127.0.0.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
  sleep 1.5
} | ip netns exec $NS_L timeout 30 openssl s_server -accept 127.0.0.20:5061 -naccept 1 -cert "$WORK/tls.crt" \
    -key "$WORK/tls.key" -quiet >"$WORK/tls-server.log" 2>&1 &
tls_pid=$!
PIDS+=("$tls_pid")
wait_port $NS_L tcp 127.0.0.20 5061
{ printf 'OPTIONS sip:2001@127.0.0.20:5061;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.10;branch=z9hG4bK-tls-1\r\nMax-Forwards: 70\r\nFrom: <sip:1001@127.0.0.10>;tag=tls-1\r\nTo: <sip:2001@127.0.0.20>\r\nCall-ID: tls-1@127.0.0.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
  sleep 2
} | ip netns exec $NS_L timeout 30 openssl s_client -connect 127.0.0.20:5061 -bind 127.0.0.10:0 -quiet \
    -keylogfile tls.keylog >"$WORK/tls-client.log" 2>&1 || true
wait "$tls_pid" || true
cap_stop
grep -q 'OPTIONS sip:2001' "$WORK/tls-server.log" || { echo "TLS server got nothing" >&2; exit 1; }
grep -q 'SIP/2.0 200 OK' "$WORK/tls-client.log" || { echo "TLS client got nothing" >&2; exit 1; }

log done
ls -l ./*.pcap ./*.pcapng ./*.pcap.gz >&2
