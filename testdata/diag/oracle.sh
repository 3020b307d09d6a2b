#!/usr/bin/env bash
# Writes NAME.sip.tsv next to each capture here: tshark's view of its SIP messages, one line
# per message, "frame<TAB>call_id<TAB>kind" (kind = method or status code), so that tests
# need no tshark. tshark decodes ERF (link type 197) itself; the USER0 interface (147) shows
# no SIP, and neither does TLS without keys (those files hold the header line only).
# Usage: ./oracle.sh [FILE...]   (default: every capture here)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
if [ $# -gt 0 ]; then files=("$@"); else files=(*.pcap *.pcapng); fi
for f in "${files[@]}"; do
    {
        printf 'frame\tcall_id\tkind\n'
        tshark -r "$f" -Y 'sip && !icmp' -T fields -E occurrence=f \
            -e frame.number -e sip.Call-ID -e sip.Method -e sip.Status-Code 2>/dev/null |
            awk -F'\t' 'BEGIN{OFS="\t"} { k = ($3 != "") ? $3 : $4; print $1, $2, k }'
    } > "${f%.*}.sip.tsv"
done
