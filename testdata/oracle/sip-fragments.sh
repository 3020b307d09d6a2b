#!/usr/bin/env bash
# Writes tshark's list of SIP messages over UDP that arrived in several IP fragments.
#
# Usage: testdata/oracle/sip-fragments.sh DIR OUT.tsv
#   every *.pcap, *.pcapng, *.cap, *.gz under DIR (recursively), paths relative to DIR.
# Columns (header row first): path, frame (the frame that completes the datagram, as tshark
# numbers the reassembled message), fragment_frames (comma-separated, as ip.fragment /
# ipv6.fragment list them), sip_bytes (UDP length - 8), kind (method or status code),
# src, dst (address:port).
# tshark runs with default preferences (IP reassembly on), -n and LC_ALL=C.
set -euo pipefail
dir=$(cd "$1" && pwd)
out=$2
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
export WIRESHARK_CONFIG_DIR="$cfg" LC_ALL=C
{
    printf 'path\tframe\tfragment_frames\tsip_bytes\tkind\tsrc\tdst\n'
    (cd "$dir" && find . -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.gz' \) | sed 's|^\./||' | LC_ALL=C sort) |
    while read -r p; do
        tshark -n -r "$dir/$p" -Y 'sip && udp && (ip.fragment || ipv6.fragment) && !icmp && !icmpv6' \
            -T fields -E occurrence=a -E aggregator=, -e frame.number -e ip.fragment -e ipv6.fragment -e udp.length \
            -e sip.Method -e sip.Status-Code -e ip.src -e ipv6.src -e udp.srcport -e ip.dst \
            -e ipv6.dst -e udp.dstport 2>/dev/null |
        awk -F'\t' -v p="$p" 'BEGIN{OFS="\t"} {
            frags = ($2 != "") ? $2 : $3
            kind = ($5 != "") ? $5 : $6
            src = ($7 != "") ? $7 ":" $9 : "[" $8 "]:" $9
            dst = ($10 != "") ? $10 ":" $12 : "[" $11 "]:" $12
            print p, $1, frags, $4 - 8, kind, src, dst }' || true
    done
} > "$out"
