#!/usr/bin/env bash
# Builds interleaved.pcapng from four fixtures of ../followme and ../media, shifted in time
# with editcap and merged in time order with mergecap (both from Wireshark), then runs
# oracle.py. Nothing is hand-edited.
#
#   ./make.sh
set -euo pipefail
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# The Follow-Me call over UDP stays where it is (2026-11-23 06:47:11.03 to 06:47:15.06).
cp ../followme/healthy-diversion-udp.pcap "$t/a.pcap"
# A plain SIP call with RTP between other addresses, inside the Follow-Me call's time span:
# its packets interleave with the Follow-Me call's.
editcap -t 153 ../media/sip-rtp-both.pcap "$t/b.pcap"
# The Follow-Me call over TCP, same addresses and media ports as the first, from 06:47:22.09:
# only the time tells its RTP from the first call's.
editcap -t -78 ../followme/healthy-history-info-tcp.pcap "$t/c.pcap"
# The Follow-Me call whose second-leg INVITE came in two IP fragments, from 06:47:33.00.
editcap -t -844594.978042 ../followme/cap005-followme-fragmented.pcap "$t/d.pcap"
mergecap -F pcapng -w interleaved.pcapng "$t/a.pcap" "$t/b.pcap" "$t/c.pcap" "$t/d.pcap"
echo "wrote interleaved.pcapng" >&2
./oracle.py interleaved.pcapng selections.tsv >interleaved.expected.tsv
echo "wrote interleaved.expected.tsv" >&2
