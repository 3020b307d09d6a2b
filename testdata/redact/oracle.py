#!/usr/bin/env python3
"""tshark's list of what `--redact` must hide, for tests/redact.rs.

For each capture named in INPUTS, writes NAME.sensitive.tsv here: one `kind<TAB>value`
line per distinct personal value tshark reads in the SIP/SDP and IP headers:
  number  URI user parts that are numbers, and numbers in Diversion/History-Info
  user    URI user parts that are names, SDP o= user names
  name    display names (quotes removed)
  host    host names (From/To/Contact/Request-URI/Via/Route/P-Asserted-Identity hosts)
  ip      IPv4/IPv6 addresses (IP headers, Via, SDP c=/o=, URI hosts)
Left out on purpose (sipdiag keeps them, see src/redact): values that are part of a
User-Agent or Server string (role inference reads those), the user parts anonymous /
unknown / restricted / unavailable / private / withheld / invalid, the SDP user "-",
0.0.0.0 (hold), multicast and broadcast addresses, the host labels invalid,
localhost, local, a short alphabetic top-level domain, and what tshark takes for the host
of an unbracketed IPv6 URI (its first group, which the address token keeps).

Usage: ./oracle.py   (needs tshark; corpus inputs are skipped when ../../../shared/captures
is absent)
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
CORPUS = os.path.join(TESTDATA, "..", "..", "shared", "captures")

# (output name, path): fixtures under testdata/, corpus captures under shared/captures.
INPUTS = [
    ("fm002-intl00", "followme/fm002-intl00.pcap"),
    ("fm002-national0", "followme/fm002-national0.pcap"),
    ("fm002-outside-prefix", "followme/fm002-outside-prefix.pcap"),
    ("fm002-plus-internal", "followme/fm002-plus-internal.pcap"),
    ("fm004-user-unknown", "followme/fm004-user-unknown.pcap"),
    ("numbers-mixed", "followme/numbers-mixed.pcap"),
    ("healthy-history-info-tcp", "followme/healthy-history-info-tcp.pcap"),
    ("busy-site", "followme/busy-site.pcap"),
    ("ice-one-way", "media/ice-one-way.pcap"),
    ("sip-rtp-both", "media/sip-rtp-both.pcap"),
    ("corpus-voip-extension", "corpus:goffinet/voip-extension.pcap"),
    ("corpus-sip-ipv6-udp", "corpus:heplify/sip_ipv6_udp.pcap"),
    ("corpus-sip-ipv4-tcp", "corpus:heplify/sip_ipv4_tcp.pcap"),
]

USER_FIELDS = ["sip.r-uri.user", "sip.from.user", "sip.to.user", "sip.contact.user",
               "sip.pai.user", "sip.ppi.user", "sip.Route.user", "sip.Record-Route.user",
               "sdp.owner.username"]
NAME_FIELDS = ["sip.from.display.info", "sip.to.display.info", "sip.contact.display.info",
               "sip.pai.display.info", "sip.ppi.display.info"]
HOST_FIELDS = ["sip.r-uri.host", "sip.from.host", "sip.to.host", "sip.contact.host",
               "sip.pai.host", "sip.ppi.host", "sip.Route.host", "sip.Record-Route.host",
               "sip.Via.sent-by.address", "sip.Via.received", "sip.Via.maddr",
               "sdp.connection_info.address", "sdp.owner.address",
               "ip.src", "ip.dst", "ipv6.src", "ipv6.dst"]
TEXT_FIELDS = ["sip.Diversion", "sip.History-Info", "sip.P-Asserted-Identity", "sip.Call-ID",
               "sip.Refer-To", "sip.Referred-by"]
KEPT_FIELDS = ["sip.User-Agent", "sip.Server"]
KEEP_USERS = {"anonymous", "unknown", "restricted", "unavailable", "private", "withheld",
              "invalid", "-"}
KEEP_LABELS = {"invalid", "localhost", "local"}
IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
URI_USER = re.compile(r"(?:sips?|tel):([^@;>?\s]+)@?", re.I)
AT_HOST = re.compile(r"@\[?([A-Za-z0-9.:_-]+)")


def fields(path):
    allf = USER_FIELDS + NAME_FIELDS + HOST_FIELDS + TEXT_FIELDS + KEPT_FIELDS
    cmd = ["tshark", "-r", path, "-Y", "sip || ip || ipv6", "-T", "json"]
    for f in allf:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True).stdout
    for pkt in json.loads(out or b"[]"):
        yield pkt["_source"]["layers"]


def add_host(out, h):
    h = h.strip("[]")
    if not h or h in ("0.0.0.0", "::", "255.255.255.255"):
        return
    if IPV4.match(h) or ":" in h:
        first = int(h.split(".")[0]) if IPV4.match(h) else None
        if first is not None and first >= 224:
            return
        if h.lower().startswith("ff"):
            return
        out.add(("ip", h))
    elif any(c.isalpha() for c in h):
        labels = [l for l in h.split(".") if l.lower() not in KEEP_LABELS]
        # A short alphabetic top-level domain stays (see src/redact/text.rs).
        if len(labels) >= 2 and labels[-1].isalpha() and 2 <= len(labels[-1]) <= 3:
            labels = labels[:-1]
        for l in labels:
            out.add(("host", l))


def add_user(out, u):
    if u.lower() in KEEP_USERS or not u:
        return
    if re.fullmatch(r"\+?[0-9*#().-]+", u):
        out.add(("number", u))
    else:
        out.add(("user", u))


def sensitive(path):
    out, kept = set(), []
    for layers in fields(path):
        get = lambda f: layers.get(f, [])
        for f in KEPT_FIELDS:
            kept += get(f)
        for f in USER_FIELDS:
            for v in get(f):
                add_user(out, v)
        for f in NAME_FIELDS:
            for v in get(f):
                v = v.strip().strip('"').strip()
                if v:
                    out.add(("name", v))
        for f in HOST_FIELDS:
            for v in get(f):
                add_host(out, v)
        for f in TEXT_FIELDS:
            for v in get(f):
                for u in URI_USER.findall(v):
                    if "@" in v or u[:1] in "+0123456789":
                        add_user(out, u.split(":")[0])
                for h in AT_HOST.findall(v):
                    # host, host:port, or an IPv6 address (two colons or more)
                    add_host(out, h if h.count(":") >= 2 else h.split(":")[0])
    # tshark reads the host of an unbracketed IPv6 URI (`sip:u@fe80::1`, invalid but
    # seen) as its first group: that group is the address's, which stays (src/redact).
    ips = [v.lower() for k, v in out if k == "ip"]
    out = {(k, v) for k, v in out
           if not (k == "host" and any(ip.startswith(v.lower() + ":") for ip in ips))}
    kept_text = " ".join(kept).lower()
    return sorted((k, v) for k, v in out if v.lower() not in kept_text)


def main():
    for name, rel in INPUTS:
        if rel.startswith("corpus:"):
            path = os.path.join(CORPUS, rel[len("corpus:"):])
            if not os.path.exists(path):
                print(f"skipped {name}: {path} absent", file=sys.stderr)
                continue
        else:
            path = os.path.join(TESTDATA, rel)
        rows = sensitive(path)
        with open(os.path.join(HERE, f"{name}.sensitive.tsv"), "w") as f:
            f.write(f"# tshark's reading of {rel} (testdata/redact/oracle.py)\n")
            for kind, value in rows:
                f.write(f"{kind}\t{value}\n")
        print(f"{name}: {len(rows)} values")


if __name__ == "__main__":
    main()
