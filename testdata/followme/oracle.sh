#!/usr/bin/env bash
# Writes NAME.sip.tsv next to each NAME.pcap: tshark's view of the SIP messages, so that tests
# can assert frame numbers without running tshark.
# Columns: frame, time (s, relative to the first frame), src, dst, transport, method or
# status code, CSeq, Call-ID. A frame holding several messages lists them comma-separated.
# Usage: ./oracle.sh [NAME...]   (default: every *.pcap here)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
if [ $# -gt 0 ]; then names=("$@"); else names=(); for f in *.pcap; do names+=("${f%.pcap}"); done; fi
for n in "${names[@]}"; do
    [ -f "$n.pcap" ] || continue   # a fixture made of other files (merge-followme)
    {
        printf 'frame\ttime\tsrc\tdst\ttransport\tmessage\tcseq\tcall_id\n'
        { tshark -r "$n.pcap" -d udp.port==5070,sip -d udp.port==5061,sip -d udp.port==5062,sip \
            -Y 'sip && !icmp' -T fields -E occurrence=a -E aggregator=, \
            -e frame.number -e frame.time_relative -e ip.src -e udp.srcport -e tcp.srcport \
            -e ip.dst -e udp.dstport -e tcp.dstport -e sip.Method -e sip.Status-Code \
            -e sip.CSeq -e sip.Call-ID 2>/dev/null || true; } |
        awk -F'\t' 'BEGIN{OFS="\t"} {
            tp = ($4 != "") ? "UDP" : "TCP";
            sp = ($4 != "") ? $4 : $5; dp = ($7 != "") ? $7 : $8;
            msg = $9; if (msg == "") msg = $10;
            # requests carry the method, responses the status code (one per message)
            if ($9 != "" && $10 != "") msg = $9 "," $10;
            printf "%s\t%.6f\t%s:%s\t%s:%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, sp, $6, dp, tp, msg, $11, $12 }'
    } > "$n.sip.tsv"
done

# SIP messages that arrived in several IP fragments (cap005-followme-fragmented), for CAP005.
"$HERE/../oracle/sip-fragments.sh" "$HERE" "$HERE/sip-fragments.tsv"
