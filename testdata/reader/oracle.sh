#!/usr/bin/env bash
# Writes expected/<fixture>.tsv for every capture fixture in testdata/reader/: one line per SIP
# message as tshark sees it, "frame<TAB>call_id<TAB>kind" (kind = method or status code).
# Needs tshark (Wireshark 4.0 used for the committed files) and python3.
#
# Per-fixture tshark options (everything else uses tshark defaults):
#   sip-on-5080.pcap      -d udp.port==5080,sip          (non-standard SIP port)
#   ws.pcap               -d tcp.port==5066,http         (WebSocket upgrade on 5066; tshark
#                                                          then follows the "sip" subprotocol)
#   tcp-ooo-retrans.pcap  -o tcp.reassemble_out_of_order:TRUE
#                         (the default FALSE never reassembles the out-of-order INVITE)
#   tls.pcap              none: no keys, so no SIP is visible and the file is empty
# Bad inputs (not-a-capture.pcap, empty.pcap, random.pcap) get no expected file.
# truncated.pcap and corrupt-record.pcap: tshark stops with an error at the damaged record;
# the file lists the messages read before it.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p expected
rm -f expected/*.tsv

TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
FILTER='sip && !icmp && !icmpv6'
BAD=" not-a-capture.pcap empty.pcap random.pcap "

opts_for() {
    case "$1" in
        sip-on-5080.pcap) echo "-d udp.port==5080,sip" ;;
        ws.pcap) echo "-d tcp.port==5066,http" ;;
        tcp-ooo-retrans.pcap) echo "-o tcp.reassemble_out_of_order:TRUE" ;;
        *) echo "" ;;
    esac
}

for f in *.pcap *.pcapng *.pcap.gz; do
    [ -e "$f" ] || continue
    case "$BAD" in *" $f "*) continue ;; esac
    # tshark exits non-zero on the damaged files after printing what it could read
    # shellcheck disable=SC2046
    tshark -n -r "$f" $(opts_for "$f") -Y "$FILTER" -T json --no-duplicate-keys -J 'frame sip' \
        >"$TMP" 2>/dev/null || true
    python3 oracle.py <"$TMP" >"expected/$f.tsv"
    printf '%-24s %3d SIP messages\n' "$f" "$(wc -l <"expected/$f.tsv")"
done

# SIP messages that arrived in several IP fragments (ipfrag-v4/v6), for CAP005.
../oracle/sip-fragments.sh . sip-fragments.tsv
