#!/usr/bin/env bash
# Writes rtp-jitter.tsv: tshark's interarrival jitter (RFC 3550 §6.4.1/A.8) of every RTP
# stream of the public capture corpus, for the test that compares sipdiag's jitter with it.
#
# Usage: testdata/oracle/rtp-jitter.sh [CAPTURES_DIR]
#   CAPTURES_DIR defaults to ../../../shared/captures relative to this script.
#
# Needs bash, python3 (stdlib only) and tshark. Runs tshark as generate.sh does (-n, LC_ALL=C,
# an empty personal configuration, the RTP heuristic on) over the captures that have a file in
# rtp-streams/, and keeps from `-z rtp,streams` the columns the jitter depends on.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
captures=${1:-"$here/../../../shared/captures"}
[[ -d "$captures" ]] || { echo "captures directory not found: $captures" >&2; exit 1; }
captures=$(cd "$captures" && pwd)
command -v tshark >/dev/null || { echo "tshark not found" >&2; exit 1; }
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
export WIRESHARK_CONFIG_DIR="$cfg"
export LC_ALL=C

python3 - "$captures" "$here" <<'PY'
import os
import subprocess
import sys

CAPTURES, OUT = sys.argv[1], sys.argv[2]
EXTRA = {"heplify/sip_ipv4_tcp_fragmented.pcap": ["-d", "tcp.port==6060,sip"]}

def streams(path):
    cmd = ["tshark", "-n", "-r", os.path.join(CAPTURES, path)] + EXTRA.get(path, []) + [
        "-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 17 or not f[6].startswith("0x"):
            continue
        if f[-1] == "X":
            f = f[:-1]
        # start end src sport dst dport ssrc PAYLOAD... pkts lost (pct) 3 deltas 3 jitters
        tail = f[-9:]
        payload = " ".join(f[7:-9])
        rows.append([f[2], f[3], f[4], f[5], f[6], payload, tail[0], tail[7], tail[8]])
    return rows

names = sorted(os.listdir(os.path.join(OUT, "rtp-streams")))
version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
with open(os.path.join(OUT, "rtp-jitter.tsv"), "w") as out:
    out.write(f"# {version}; written by rtp-jitter.sh from -o rtp.heuristic_rtp:TRUE -q -z rtp,streams\n")
    out.write("# mean_jitter_ms / max_jitter_ms: tshark's \"Mean Jitter(ms)\" / \"Max Jitter(ms)\"\n")
    out.write("path\tsrc_addr\tsrc_port\tdst_addr\tdst_port\tssrc\tpayload\tpackets\tmean_jitter_ms\tmax_jitter_ms\n")
    for n in names:
        path = n[:-len(".tsv")].replace("__", "/")
        for r in streams(path):
            out.write("\t".join([path] + r) + "\n")
PY
