#!/usr/bin/env bash
# tshark's view of each fixture, so that tests can assert frame numbers without tshark:
#   NAME.sip.tsv      one line per SIP message: frame, src, dst, transport, method or status
#                     code, CSeq, Call-ID (empty when absent), From tag
#   NAME.filters.tsv  for each Wireshark display filter listed in NAME.filters (one a line:
#                     the filters sipdiag prints for the fixture's findings), the frames
#                     tshark shows with it, space-separated; "INVALID" when tshark rejects it
#   corpus.filters.tsv  the same for the public corpus: corpus.filters holds
#                     "capture path under ../shared/captures<TAB>filter" lines
# Usage: ./oracle.sh [NAME...]   (default: every *.pcap here, and the corpus filters when
#        ../../../shared/captures is present)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
if [ $# -gt 0 ]; then names=("$@"); else names=(); for f in *.pcap; do names+=("${f%.pcap}"); done; fi
for n in "${names[@]}"; do
    {
        printf 'frame\tsrc\tdst\ttransport\tmessage\tcseq\tcall_id\tfrom_tag\n'
        tshark -r "$n.pcap" -Y 'sip && !icmp' -T fields -E occurrence=a -E aggregator=, \
            -e frame.number -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
            -e sip.Method -e sip.Status-Code -e sip.CSeq -e sip.Call-ID -e sip.from.tag |
        awk -F'\t' 'BEGIN{OFS="\t"} {
            msg = ($6 != "") ? $6 : $7;
            print $1, $2 ":" $3, $4 ":" $5, "UDP", msg, $8, $9, $10 }'
    } > "$n.sip.tsv"
    if [ -f "$n.filters" ]; then
        printf 'filter\tframes\n' > "$n.filters.tsv"
        while IFS= read -r f; do
            [ -n "$f" ] || continue
            if frames=$(tshark -r "$n.pcap" -Y "$f" -T fields -e frame.number 2>/dev/null); then
                printf '%s\t%s\n' "$f" "$(echo $frames)" >> "$n.filters.tsv"
            else
                printf '%s\tINVALID\n' "$f" >> "$n.filters.tsv"
            fi
        done < "$n.filters"
    fi
done

CORPUS="$HERE/../../../shared/captures"
if [ $# -eq 0 ] && [ -d "$CORPUS" ] && [ -f corpus.filters ]; then
    printf 'capture\tfilter\tframes\n' > corpus.filters.tsv
    while IFS=$'\t' read -r path f; do
        [ -n "$f" ] || continue
        if frames=$(tshark -r "$CORPUS/$path" -Y "$f" -T fields -e frame.number 2>/dev/null); then
            printf '%s\t%s\t%s\n' "$path" "$f" "$(echo $frames)" >> corpus.filters.tsv
        else
            printf '%s\t%s\tINVALID\n' "$path" "$f" >> corpus.filters.tsv
        fi
    done < corpus.filters
fi
