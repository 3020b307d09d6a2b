#!/usr/bin/env bash
# Regenerates the tshark expectation data ("oracle") for the public capture corpus.
#
# Usage: testdata/oracle/generate.sh [CAPTURES_DIR]
#   CAPTURES_DIR defaults to ../../../shared/captures relative to this script.
#
# Needs: bash, python3 (stdlib only), tshark. Paths written to the outputs are relative
# to CAPTURES_DIR. Every output file in this directory except README.md's prose comes
# from this script; README.md itself is regenerated too (see write_readme below).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
captures=${1:-"$here/../../../shared/captures"}
if [[ ! -d "$captures" ]]; then
    echo "captures directory not found: $captures" >&2
    exit 1
fi
captures=$(cd "$captures" && pwd)
command -v tshark >/dev/null || { echo "tshark not found" >&2; exit 1; }

# Use tshark's default preferences: point the personal configuration directory at an
# empty directory so that no user preferences, decode-as entries, disabled protocols or
# heuristic settings leak in.
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
export WIRESHARK_CONFIG_DIR="$cfg"
export LC_ALL=C

python3 - "$captures" "$here" <<'PY'
import json
import os
import re
import shutil
import subprocess
import sys

CAPTURES, OUT = sys.argv[1], sys.argv[2]

# Per-capture extra tshark options (decode-as). Applied to every tshark run on that file.
EXTRA = {
    "heplify/sip_ipv4_tcp_fragmented.pcap": ["-d", "tcp.port==6060,sip"],
}

SIP_FILTER = "sip && !icmp && !icmpv6"
RTP_PREF = ["-o", "rtp.heuristic_rtp:TRUE"]
NO_SIP_HEUR = ["--disable-heuristic", "sip_udp", "--disable-heuristic", "sip_tcp",
               "--disable-heuristic", "sip_sctp", "--disable-heuristic", "sip_stun"]

# The commands, as recorded in README.md (F = capture file, EXTRA = decode-as options).
COMMANDS = {
    "sip": f'tshark -n -r F EXTRA -Y "{SIP_FILTER}" -T json --no-duplicate-keys -J "frame sip"',
    "sip_check": f'tshark -n -r F EXTRA -Y "{SIP_FILTER}" -T fields -E occurrence=a -E aggregator=/s '
                 '-e frame.number -e sip.Method -e sip.Status-Code',
    "sip_noheur": f'tshark -n -r F EXTRA {" ".join(NO_SIP_HEUR)} -Y "{SIP_FILTER}" -T fields '
                  '-E occurrence=a -E aggregator=/s -e sip.Method -e sip.Status-Code',
    "sip_icmp": 'tshark -n -r F EXTRA -Y "sip && (icmp || icmpv6)" -T fields -e frame.number',
    "stun": 'tshark -n -r F EXTRA -Y stun -T json --no-duplicate-keys -J "frame stun"',
    "classicstun": 'tshark -n -r F EXTRA -Y classicstun -T fields -e frame.number',
    "rtp_streams": "tshark -n -r F EXTRA -o rtp.heuristic_rtp:TRUE -q -z rtp,streams",
    "rtp_frames": 'tshark -n -r F EXTRA -o rtp.heuristic_rtp:TRUE -Y "rtp.ssrc && !icmp && !icmpv6" -T fields -e frame.number',
}


def tshark(path, args):
    """Runs tshark on one capture; returns (rc, stdout, stderr without the root warning)."""
    cmd = ["tshark", "-n", "-r", os.path.join(CAPTURES, path)] + EXTRA.get(path, []) + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = "\n".join(l for l in p.stderr.decode("utf-8", "replace").splitlines()
                    if l.strip() and not l.startswith("Running as user"))
    err = err.replace(CAPTURES + "/", "")
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def first(v):
    """With --no-duplicate-keys a repeated field becomes a list: keep the first value."""
    if isinstance(v, list):
        return first(v[0]) if v else None
    return v


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def packets(json_text):
    text = json_text.strip()
    if not text:
        return []
    return json.loads(text)


def layer_list(layers, name):
    return [x for x in as_list(layers.get(name)) if isinstance(x, dict)]


def transport_of(protocols):
    """Transport carrying the (first) SIP layer: the last udp/tcp/sctp before 'sip'."""
    names = protocols.split(":")
    if "sip" in names:
        names = names[:names.index("sip")]
    t = "other"
    for n in names:
        if n in ("udp", "tcp", "sctp"):
            t = n
    return t


def sip_message(obj):
    """(kind, call_id) of one 'sip' layer object, or None for a non-message (continuation)."""
    if "sip.Request-Line" in obj:
        tree = first(obj.get("sip.Request-Line_tree")) or {}
        kind = first(tree.get("sip.Method"))
        if kind is None:
            kind = str(first(obj["sip.Request-Line"])).split(" ")[0]
    elif "sip.Status-Line" in obj:
        tree = first(obj.get("sip.Status-Line_tree")) or {}
        kind = first(tree.get("sip.Status-Code"))
        if kind is None:
            parts = str(first(obj["sip.Status-Line"])).split(" ")
            kind = parts[1] if len(parts) > 1 else ""
    else:
        return None
    hdrs = first(obj.get("sip.msg_hdr_tree")) or {}
    cid = first(hdrs.get("sip.Call-ID"))
    return str(kind), ("" if cid is None else str(cid))


def out_name(path):
    return path.replace("/", "__") + ".tsv"


def clean(s):
    return s.replace("\t", " ").replace("\r", "\\r").replace("\n", "\\n")


STREAM_RE = re.compile(
    r"^\s*(?P<start>\S+)\s+(?P<end>\S+)\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+"
    r"(?P<dport>\d+)\s+(?P<ssrc>0x[0-9A-Fa-f]+)\s+(?P<payload>.*?)\s+(?P<pkts>\d+)\s+"
    r"(?P<lost>-?\d+)\s+\((?P<pct>[^)]*)%\)\s+(?P<rest>.*)$")


def parse_rtp_streams(text):
    rows, in_table = [], False
    for line in text.splitlines():
        if "RTP Streams" in line:
            in_table = True
            continue
        if not in_table or line.startswith("====") or "Src IP addr" in line or not line.strip():
            continue
        m = STREAM_RE.match(line)
        if m is None:
            raise SystemExit(f"cannot parse rtp,streams line: {line!r}")
        rows.append(m)
    return rows


def main():
    files = []
    for root, dirs, names in os.walk(CAPTURES):
        dirs.sort()
        for n in names:
            if n.endswith(".md") or n.startswith("."):
                continue
            files.append(os.path.relpath(os.path.join(root, n), CAPTURES).replace(os.sep, "/"))
    files.sort()

    for sub in ("messages", "stun", "rtp-streams"):
        d = os.path.join(OUT, sub)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)

    version = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode().splitlines()[0]

    sip_rows, stun_rows, rtp_rows = [], [], []
    failed, multi, heur_only, icmp_quoted, mismatches, classic, no_callid = [], [], [], [], [], [], []
    nonmsg_frames = []
    tot_sip_files = tot_sip_msgs = 0

    for path in files:
        # ---------------- SIP ----------------
        rc, out, err = tshark(path, ["-Y", SIP_FILTER, "-T", "json", "--no-duplicate-keys",
                                     "-J", "frame sip"])
        if rc != 0:
            first_err = err.splitlines()[0] if err else f"exit status {rc}"
            failed.append((path, first_err))
            sip_rows.append((path, -1, -1, first_err))
            print(f"{path}: tshark failed: {first_err}", file=sys.stderr)
            continue
        msgs, n_frames = [], 0
        for pkt in packets(out):
            layers = pkt["_source"]["layers"]
            frame = first(layers["frame"])
            fno = int(first(frame["frame.number"]))
            transport = transport_of(first(frame["frame.protocols"]))
            n_frames += 1
            here = []
            for obj in layer_list(layers, "sip"):
                m = sip_message(obj)
                if m is not None:
                    here.append((fno, m[1], m[0], transport))
            if len(here) > 1:
                multi.append((path, fno, len(here)))
            if not here:
                nonmsg_frames.append((path, fno))
            msgs.extend(here)
        sip_rows.append((path, len(msgs), n_frames, ""))
        if msgs:
            tot_sip_files += 1
            tot_sip_msgs += len(msgs)
            with open(os.path.join(OUT, "messages", out_name(path)), "w") as f:
                for fno, cid, kind, tr in msgs:
                    f.write(f"{fno}\t{clean(cid)}\t{clean(kind)}\t{tr}\n")
            n_empty = sum(1 for m in msgs if m[1] == "")
            if n_empty:
                no_callid.append((path, n_empty))

        # Cross-check the JSON walk against tshark's field extraction.
        rc2, out2, _ = tshark(path, ["-Y", SIP_FILTER, "-T", "fields", "-E", "occurrence=a",
                                     "-E", "aggregator=/s", "-e", "frame.number",
                                     "-e", "sip.Method", "-e", "sip.Status-Code"])
        by_frame = {}
        for fno, cid, kind, tr in msgs:
            by_frame.setdefault(fno, []).append(kind)
        fields_count = 0
        for line in out2.splitlines():
            cols = line.split("\t")
            if not cols or not cols[0]:
                continue
            kinds = " ".join(cols[1:]).split()
            fields_count += len(kinds)
            if sorted(kinds) != sorted(by_frame.get(int(cols[0]), [])):
                mismatches.append((path, int(cols[0]), kinds, by_frame.get(int(cols[0]), [])))
        if fields_count != len(msgs):
            mismatches.append((path, "total", fields_count, len(msgs)))

        # SIP that only the (default-on) heuristic dissectors find.
        if msgs:
            _, out3, _ = tshark(path, NO_SIP_HEUR + ["-Y", SIP_FILTER, "-T", "fields",
                                                     "-E", "occurrence=a", "-E", "aggregator=/s",
                                                     "-e", "sip.Method", "-e", "sip.Status-Code"])
            n_noheur = sum(len(l.split()) for l in out3.splitlines())
            if n_noheur != len(msgs):
                heur_only.append((path, len(msgs) - n_noheur, len(msgs)))

        # SIP quoted inside ICMP errors (excluded from the counts above).
        _, out4, _ = tshark(path, ["-Y", "sip && (icmp || icmpv6)", "-T", "fields", "-e", "frame.number"])
        q = [l for l in out4.splitlines() if l.strip()]
        if q:
            icmp_quoted.append((path, q))

        # ---------------- STUN ----------------
        _, out, _ = tshark(path, ["-Y", "stun", "-T", "json", "--no-duplicate-keys", "-J", "frame stun"])
        stun_msgs, stun_frames = [], 0
        for pkt in packets(out):
            layers = pkt["_source"]["layers"]
            fno = int(first(first(layers["frame"])["frame.number"]))
            stun_frames += 1
            for obj in layer_list(layers, "stun"):
                if "stun.type" not in obj:
                    continue  # e.g. TURN ChannelData: not a STUN message
                mtype = str(first(obj["stun.type"]))
                tid = str(first(obj.get("stun.id")) or "").replace(":", "").lower()
                stun_msgs.append((fno, mtype, tid))
        if stun_frames:
            stun_rows.append((path, len(stun_msgs), stun_frames))
            if stun_msgs:
                with open(os.path.join(OUT, "stun", out_name(path)), "w") as f:
                    for fno, mtype, tid in stun_msgs:
                        f.write(f"{fno}\t{mtype}\t{tid}\n")
        _, out5, _ = tshark(path, ["-Y", "classicstun", "-T", "fields", "-e", "frame.number"])
        c = [l for l in out5.splitlines() if l.strip()]
        if c:
            classic.append((path, c))

        # ---------------- RTP ----------------
        _, out, _ = tshark(path, RTP_PREF + ["-q", "-z", "rtp,streams"])
        streams = parse_rtp_streams(out)
        _, out6, _ = tshark(path, RTP_PREF + ["-Y", "rtp.ssrc && !icmp && !icmpv6", "-T", "fields",
                                              "-e", "frame.number"])
        rtp_frames = len([l for l in out6.splitlines() if l.strip()])
        total = 0
        if streams:
            with open(os.path.join(OUT, "rtp-streams", out_name(path)), "w") as f:
                for m in streams:
                    total += int(m["pkts"])
                    f.write("\t".join([m["src"], m["sport"], m["dst"], m["dport"], m["ssrc"],
                                       m["payload"].strip(), m["pkts"], m["lost"]]) + "\n")
        rtp_rows.append((path, len(streams), total, rtp_frames))
        print(f"{path}: sip={len(msgs)}/{n_frames} stun={len(stun_msgs)}/{stun_frames} "
              f"rtp_streams={len(streams)} rtp_pkts={total}", file=sys.stderr)

    with open(os.path.join(OUT, "sip-counts.tsv"), "w") as f:
        f.write("path\tsip_messages\tsip_frames\n")
        for path, n, fr, err in sip_rows:
            f.write(f"{path}\t{n}\t{fr}\n")
            if err:
                f.write(f"# {path}: tshark cannot read this file: {err}\n")
    with open(os.path.join(OUT, "stun-counts.tsv"), "w") as f:
        f.write("path\tstun_messages\tstun_frames\n")
        for path, n, fr in stun_rows:
            f.write(f"{path}\t{n}\t{fr}\n")
    with open(os.path.join(OUT, "rtp-counts.tsv"), "w") as f:
        f.write("path\trtp_streams\trtp_packets\trtp_frames\n")
        for path, n, total, fr in rtp_rows:
            f.write(f"{path}\t{n}\t{total}\t{fr}\n")

    facts = dict(version=version, files=files, failed=failed, multi=multi, heur_only=heur_only,
                 icmp_quoted=icmp_quoted, mismatches=mismatches, classic=classic,
                 no_callid=no_callid, nonmsg_frames=nonmsg_frames, sip_rows=sip_rows,
                 stun_rows=stun_rows, rtp_rows=rtp_rows, tot_sip_files=tot_sip_files,
                 tot_sip_msgs=tot_sip_msgs)
    write_readme(facts)
    if mismatches:
        print("WARNING: JSON walk and -T fields disagree:", mismatches, file=sys.stderr)
    print(f"{len(files)} captures; {tot_sip_files} with SIP; {tot_sip_msgs} SIP messages; "
          f"{len(failed)} unreadable", file=sys.stderr)


def write_readme(x):
    L = []
    w = L.append
    w("# tshark oracle for the public capture corpus")
    w("")
    w("Expectation data produced by tshark for every capture file of the public SIP capture corpus")
    w("(`shared/captures/`, described by its `MANIFEST.md`; the captures themselves are not part of")
    w("this repository). Tests compare sipdiag's reader/decoder against these files without needing")
    w("tshark. The files listed under \"Files\" below, including this README, are written by")
    w("`generate.sh` (which replaces `messages/`, `stun/` and `rtp-streams/` wholesale and leaves any")
    w("other file in this directory alone, e.g. the hand-maintained `known-differences.tsv`):")
    w("")
    w("```")
    w("testdata/oracle/generate.sh [CAPTURES_DIR]   # default: ../../../shared/captures from the script")
    w("```")
    w("")
    w(f"Generated with `{x['version']}` over {len(x['files'])} capture files. Paths are relative to")
    w("the captures directory. tshark runs with `-n`, `LC_ALL=C` and an empty personal configuration")
    w("directory (`WIRESHARK_CONFIG_DIR`), i.e. default preferences: SIP heuristics on UDP/TCP/SCTP are")
    w("on by default, RTP heuristics are off except for the RTP outputs.")
    w("")
    w("## Files")
    w("")
    w("| file | content |")
    w("|---|---|")
    w("| `sip-counts.tsv` | header `path sip_messages sip_frames`; one row per capture file (all files). "
      "`sip_messages` = number of SIP request lines + status lines in frames matching "
      "`sip && !icmp && !icmpv6` (each message of a multi-message frame counts); `sip_frames` = number "
      "of matching frames (can exceed `sip_messages`: \"SIP Continuation\" frames have no start line). "
      "`-1 -1` plus a `# path: error` comment line = tshark cannot read the file. |")
    w("| `messages/<path with / as __>.tsv` | for every capture with >= 1 SIP message: one line per SIP "
      "message, no header: `frame call_id kind transport`. `frame` = tshark frame number (for a message "
      "reassembled from TCP segments or IP fragments: the frame that completes it); `kind` = method of a "
      "request (as written, e.g. fuzzed `REGIStER`) or the numeric status code of a response; `call_id` "
      "= first `Call-ID`/`i` header value as tshark shows it, empty when missing; `transport` = "
      "`udp`/`tcp`/`sctp`/`other`, the last of those layers before `sip` in `frame.protocols` (TLS and "
      "WebSocket count as `tcp`). Several messages in one frame give several lines in their order "
      "within the frame. |")
    w("| `stun-counts.tsv` | header `path stun_messages stun_frames`; one row per capture where `-Y stun` "
      "matches any frame. `stun_messages` = STUN messages (layers with a `stun.type`), `stun_frames` = "
      "frames matching `stun` (also counts TURN ChannelData frames, which are not STUN messages). "
      "Classic RFC 3489 STUN is a separate tshark protocol (`classicstun`) and is not included; see below. |")
    w("| `stun/<path with / as __>.tsv` | per capture with STUN messages, no header: `frame msg_type "
      "transaction_id`; `msg_type` as tshark prints `stun.type` (`0x0001` = Binding Request, "
      "`0x0101` = Binding Success Response, ...), `transaction_id` = the 96-bit `stun.id` as 24 lowercase "
      "hex digits without `0x`. |")
    w("| `rtp-streams/<path with / as __>.tsv` | per capture with RTP streams, no header: `src_addr "
      "src_port dst_addr dst_port ssrc payload packets lost`, parsed from `-z rtp,streams` in tshark's "
      "row order (compare as a set). `ssrc` as tshark prints it (`0x` + 8 upper-case hex digits); "
      "`payload` is tshark's payload name (`g711U`, `g711A`, `RTPType-111`, ...; tshark writes "
      "`A, B` when a stream carries several payload types); `lost` = tshark's integer "
      "\"Lost\" (expected minus received; negative when duplicates outnumber gaps - tshark prints "
      "`-2 (-20.0%)`, only the integer is kept). |")
    w("| `rtp-counts.tsv` | header `path rtp_streams rtp_packets rtp_frames`; one row per capture file "
      "(all files): number of streams, sum of their `Pkts`, and number of frames matching "
      "`rtp.ssrc && !icmp && !icmpv6` with the RTP heuristic on (a cross-check: equal to `rtp_packets` "
      "for every file of this corpus; plain `-Y rtp` would also match frames the RTP heuristic looked "
      "at and rejected, and RTP quoted in ICMP errors, which the streams table leaves out). |")
    w("")
    w("All files are tab-separated, UTF-8, `\\n`-terminated; lines starting with `#` are comments.")
    w("Tabs, CR and LF inside a value (none occur in this corpus) would be written as space, `\\r`, `\\n`.")
    w("`payload` values may contain spaces and commas, never tabs.")
    w("")
    w("## Exact commands")
    w("")
    w("`F` is the capture file, `EXTRA` the per-file decode-as options listed below (empty otherwise).")
    w("")
    w("```")
    for k in ("sip", "sip_check", "sip_noheur", "sip_icmp", "stun", "classicstun", "rtp_streams",
              "rtp_frames"):
        w(f"# {k}")
        w(COMMANDS[k])
    w("```")
    w("")
    w("`sip` gives the messages (with `--no-duplicate-keys` several SIP messages of one frame appear as a")
    w("JSON list under the `sip` key, in order; without it tshark 4.0 repeats the `sip` key). `sip_check`")
    w("is a cross-check of the JSON walk (the script warns on disagreement); `sip_noheur` finds SIP that")
    w("only the heuristic dissectors decode; `sip_icmp` finds SIP quoted in ICMP errors.")
    w("")
    w("## Special cases")
    w("")
    w("Captures that needed decode-as:")
    w("")
    for p, opts in sorted(EXTRA.items()):
        w(f"- `{p}`: `{' '.join(opts)}`")
    w("")
    w("Captures tshark cannot read (they get `-1` in `sip-counts.tsv` and no row in the other files):")
    w("")
    if x["failed"]:
        for p, e in x["failed"]:
            w(f"- `{p}`: {e}")
    else:
        w("- none")
    w("")
    w("Frames holding several SIP messages:")
    w("")
    if x["multi"]:
        for p, fno, n in x["multi"]:
            w(f"- `{p}` frame {fno}: {n} messages")
    else:
        w("- none in this corpus (checked with the JSON walk above, which handles them)")
    w("")
    w("SIP found only by tshark's default-on SIP heuristics (messages lost with `sip_noheur`):")
    w("")
    if x["heur_only"]:
        for p, n, tot in x["heur_only"]:
            w(f"- `{p}`: {n} of {tot} messages")
    else:
        w("- none")
    w("")
    w("SIP quoted inside ICMP/ICMPv6 errors (excluded from all counts; frame numbers):")
    w("")
    if x["icmp_quoted"]:
        for p, q in x["icmp_quoted"]:
            w(f"- `{p}`: {', '.join(q)}")
    else:
        w("- none")
    w("")
    w("Frames matching the SIP filter without any SIP start line (\"SIP Continuation\" etc.):")
    w("")
    if x["nonmsg_frames"]:
        byp = {}
        for p, fno in x["nonmsg_frames"]:
            byp.setdefault(p, []).append(str(fno))
        for p, fr in byp.items():
            w(f"- `{p}`: {', '.join(fr)}")
    else:
        w("- none")
    w("")
    w("SIP messages without a Call-ID (empty `call_id` field):")
    w("")
    if x["no_callid"]:
        for p, n in x["no_callid"]:
            w(f"- `{p}`: {n}")
    else:
        w("- none")
    w("")
    w("Classic STUN (RFC 3489, tshark `classicstun`, not in the STUN outputs; frame numbers):")
    w("")
    if x["classic"]:
        for p, c in x["classic"]:
            w(f"- `{p}`: {', '.join(c)}")
    else:
        w("- none")
    w("")
    if x["mismatches"]:
        w("JSON walk vs `-T fields` disagreements:")
        w("")
        for m in x["mismatches"]:
            w(f"- {m}")
        w("")
    w("## Differences from MANIFEST.md")
    w("")
    w("The corpus MANIFEST's \"SIP msgs\" column counts every frame tshark labels SIP. The counts here")
    w("exclude SIP quoted inside ICMP errors and frames without a SIP start line, so they are lower for")
    w("`goffinet/private-test-sip.pcapng` (276 vs 279: 3 ICMP-quoted), `ipfixprobe/sip.pcap` (40 vs 45: 5")
    w("ICMP-quoted) and `ndpi/http_on_sip_port.pcap` (0 vs 2: HTTP on port 5060 shown as \"SIP")
    w("Continuation\"). Distinct non-empty Call-IDs per file agree with the MANIFEST for every file.")
    w("")
    w("## Totals")
    w("")
    w(f"- capture files: {len(x['files'])}")
    w(f"- files with at least one SIP message: {x['tot_sip_files']}")
    w(f"- SIP messages in all files: {x['tot_sip_msgs']}")
    w(f"- files with STUN frames: {len(x['stun_rows'])} "
      f"({sum(r[1] for r in x['stun_rows'])} STUN messages)")
    w(f"- files with RTP streams: {sum(1 for r in x['rtp_rows'] if r[1])} "
      f"({sum(r[1] for r in x['rtp_rows'])} streams, {sum(r[2] for r in x['rtp_rows'])} RTP packets)")
    w("")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(L))


main()
PY
