#!/usr/bin/env bash
# Regenerates the Follow-Me capture fixtures of this directory (*.pcap) and their tshark
# listings (*.sip.tsv, via oracle.sh).
#
# Every fixture is a real capture: sipp processes play the PBX (127.0.0.10) and XCC
# (127.0.0.20) on the loopback interface while tcpdump records lo. Nothing leaves loopback.
#
# Needs: root (tcpdump on lo), sipp (Debian package sip-tester, whose
# /usr/share/sip-tester/g711a.pcap provides the RTP), tcpdump, tshark, editcap, python3.
#
# Usage: ./make.sh            all fixtures
#        ./make.sh NAME...    only these fixtures (file name without .pcap)
#
# Ports: PBX  127.0.0.10:5060 trunk listener (second leg, OPTIONS from XCC)
#             127.0.0.10:5061 sends the first leg and its OPTIONS
#        XCC  127.0.0.20:5060 trunk listener (first leg), 127.0.0.20:5070 second trunk (fm005)
#             127.0.0.20:5062 sends the second leg and its OPTIONS
# RTP:   PBX first leg 40000, PBX second leg 40010, XCC first leg 30000, XCC second leg 30010.
#
# The second leg is a separate sipp process (a second Call-ID needs a second sipp call): the
# XCC first-leg scenario runs the "exec" key right after it has sent 180 Ringing, which starts
# leg2.sh (written by this script) in the background. The first leg's final answer is timed
# with sipp's -d pause so that it follows the second leg's outcome.
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RTP_SRC=/usr/share/sip-tester/g711a.pcap

PBX=127.0.0.10
XCC=127.0.0.20

CALLER=+4915112345678     # original caller (From of both legs)
USER=+4930123456          # Follow-Me user, E.164
ANYDEV=799                # central AnyDevice number: Request-URI/To of the first leg
MOBILE=+491701234567      # the user's mobile (second leg To)

PBX_UA="IP Office 11.1.3.0.0 build 14"
XCC_UA="XPhone Connect XCC"

# SDP codec sets: m-line formats and the matching attribute lines (each with a leading CRLF).
CODECS_G711="8 0 101"
RTPMAP_G711=$'\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15'
CODECS_WB="9 111"
RTPMAP_WB=$'\r\na=rtpmap:9 G722/8000\r\na=rtpmap:111 opus/48000/2'
# XCC offering every codec it could (a long codec list in the SIP gateway): with a
# 1500-byte MTU this INVITE no longer fits one packet (cap005-followme-fragmented).
CODECS_ALL="111 9 106 107 8 0 18 4 15 104 102 3 99 97 98 2 96 105 13 101 100"
RTPMAP_ALL=$'\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1; minptime=10; maxplaybackrate=48000; sprop-maxcapturerate=48000; stereo=0; sprop-stereo=0; cbr=0'
RTPMAP_ALL+=$'\r\na=rtpmap:9 G722/8000\r\na=rtpmap:106 G7221/16000\r\na=fmtp:106 bitrate=32000\r\na=rtpmap:107 G7221/32000\r\na=fmtp:107 bitrate=48000'
RTPMAP_ALL+=$'\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no'
RTPMAP_ALL+=$'\r\na=rtpmap:4 G723/8000\r\na=fmtp:4 annexa=no\r\na=rtpmap:15 G728/8000\r\na=rtpmap:104 iLBC/8000\r\na=fmtp:104 mode=30\r\na=rtpmap:102 speex/16000\r\na=rtpmap:3 GSM/8000'
RTPMAP_ALL+=$'\r\na=rtpmap:99 AMR-WB/16000\r\na=fmtp:99 octet-align=1; mode-change-capability=2; max-red=0'
RTPMAP_ALL+=$'\r\na=rtpmap:97 AMR/8000\r\na=fmtp:97 octet-align=1; mode-change-capability=2; max-red=0'
RTPMAP_ALL+=$'\r\na=rtpmap:98 speex/8000\r\na=rtpmap:2 G726-32/8000\r\na=rtpmap:96 G726-32/8000\r\na=rtpmap:105 L16/16000'
RTPMAP_ALL+=$'\r\na=rtpmap:13 CN/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:100 telephone-event/48000\r\na=fmtp:100 0-16'
RTPMAP_ALL+=$'\r\na=ptime:20\r\na=maxptime:60\r\na=rtcp:30011 IN IP4 127.0.0.20'
CODECS_G729="18"
RTPMAP_G729=$'\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no'

WORK=$(mktemp -d /tmp/followme.XXXXXX)
PIDS=()
TCPDUMP_PID=""

cleanup() {
    local p
    for p in "${PIDS[@]}" $TCPDUMP_PID; do kill "$p" 2>/dev/null || true; done
    if [ -f "$WORK/leg2.pid" ]; then kill "$(cat "$WORK/leg2.pid")" 2>/dev/null || true; fi
    if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo "make.sh: command failed at line $LINENO (exit $?); KEEP_WORK=1 keeps $WORK" >&2' ERR

log() { printf '== %s\n' "$*" >&2; }

# hdrs "H1: v" "H2: v" -> "\r\nH1: v\r\nH2: v" (appended to a mandatory header line in the
# scenarios, so that an empty value leaves no empty line behind).
hdrs() { local h out=""; for h in "$@"; do out+=$'\r\n'"$h"; done; printf '%s' "$out"; }

# Deterministic opaque Call-IDs and tags derived from the fixture name.
hex() { printf '%s' "$1" | md5sum | cut -c1-"$2"; }
cid() { printf '%s@%s' "$(hex "$1" 24)" "$2"; }

# build_args SCENARIO LOCAL_IP LOCAL_PORT MEDIA_PORT [REMOTE] -> global array ARGS.
# Keys come from the k_* variables (empty when unset).
build_args() {
    local sf=$1 ip=$2 port=$3 mport=$4 remote=${5:-}
    if grep -q '@CODE@' "$WORK/$sf"; then
        # sipp wants a literal status code: instantiate the template for this code.
        local inst="${sf%.xml}-${k_code}.xml"
        sed -e "s|@CODE@|$k_code|g" -e "s|@REASON@|$k_reason|g" "$WORK/$sf" > "$WORK/$inst"
        sf=$inst
    fi
    ARGS=(sipp -sf "$WORK/$sf" -i "$ip" -p "$port" -mi "$ip" -mp "$mport"
          -m "${k_m:-1}" -nd -timeout "${k_timeout:-20}" -timeout_error
          -t "${k_transport:-u1}" -d "${k_d:-0}" -cid_str "${k_cid:-x@$ip}"
          -trace_err -error_file "$WORK/$(basename "$sf" .xml)-$ip-$port.err"
          -key ruri "${k_ruri:-}" -key from "${k_from:-}" -key to "${k_to:-}"
          -key tag "${k_tag:-}" -key xhdr "${k_xhdr:-}" -key srv "${k_srv:-}"
          -key codecs "${k_codecs:-$CODECS_G711}" -key rtpmaps "${k_rtpmaps:-$RTPMAP_G711}"
          -key rhdr "${k_rhdr:-}"
          -key exec "${k_exec:-true}")
    if [ -n "${k_extra:-}" ]; then read -r -a extra <<<"$k_extra"; ARGS+=("${extra[@]}"); fi
    if [ -n "$remote" ]; then ARGS+=("$remote"); fi
    # A party with its own network namespace (merge-followme) runs inside it.
    if [ -n "${NETNS_FOR[$ip]:-}" ]; then ARGS=(ip netns exec "${NETNS_FOR[$ip]}" "${ARGS[@]}"); fi
    # Each party runs in its own directory whose rtp.pcap (played by play_pcap_audio) carries
    # its own SSRC, derived from the media port.
    MDIR="$WORK/m$mport"
    if [ ! -f "$MDIR/rtp.pcap" ]; then
        mkdir -p "$MDIR"; set_ssrc "$WORK/rtp-src.pcap" "$MDIR/rtp.pcap" "$mport"
    fi
}

# set_ssrc IN OUT SEED: copy an Ethernet/IPv4/UDP RTP pcap, setting SSRC = md5(SEED)[0:4].
set_ssrc() {
    python3 - "$@" <<'PY'
import hashlib, struct, sys
src, dst, seed = sys.argv[1:]
ssrc = hashlib.md5(seed.encode()).digest()[:4]
data = bytearray(open(src, 'rb').read())
end = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off = 24
while off < len(data):
    incl = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    pkt = off + 16
    rtp = pkt + 14 + (data[pkt + 14] & 0x0f) * 4 + 8
    data[rtp + 8:rtp + 12] = ssrc
    off = pkt + incl
open(dst, 'wb').write(data)
PY
}

# bg_sipp ...: start a sipp in the background (arguments as build_args).
bg_sipp() { build_args "$@"; (cd "$MDIR" && exec "${ARGS[@]}" >/dev/null 2>&1) & PIDS+=($!); }
# fg_sipp ...: run a sipp in the foreground; returns its exit status.
fg_sipp() { build_args "$@"; (cd "$MDIR" && exec "${ARGS[@]}" >/dev/null 2>&1); }

# leg2_script ...: write leg2.sh that runs one sipp (arguments as build_args); sets k_exec.
leg2_script() {
    build_args "$@"
    rm -f "$WORK/leg2.rc" "$WORK/leg2.pid"
    {
        echo "cd $(printf '%q' "$MDIR")"
        echo "echo \$\$ > $WORK/leg2.pid"
        printf '%q ' "${ARGS[@]}"
        echo ">/dev/null 2>&1; echo \$? > $WORK/leg2.rc"
    } > "$WORK/leg2.sh"
    k_exec="bash $WORK/leg2.sh"
}

wait_leg2() {
    local i
    for i in $(seq 1 300); do [ -f "$WORK/leg2.rc" ] && break; sleep 0.1; done
    [ -f "$WORK/leg2.rc" ] || { echo "second leg did not finish" >&2; return 1; }
    local rc; rc=$(cat "$WORK/leg2.rc")
    rm -f "$WORK/leg2.rc" "$WORK/leg2.pid"
    [ "$rc" = 0 ] || { echo "second leg sipp exit status $rc" >&2; return 1; }
}

# wait_all: wait for the background sipps; fails if one of them failed.
wait_all() {
    local p rc=0
    for p in "${PIDS[@]}"; do wait "$p" || rc=$?; done
    PIDS=()
    return $rc
}

start_capture() {
    local name=$1 filter=$2
    CAP="$WORK/$name.pcap"
    tcpdump -i lo -s 0 -U --immediate-mode -n -w "$CAP" "$filter" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.1; done
    sleep 0.2
}

stop_capture() {
    local name=$1
    sleep 0.5
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
    cp "$CAP" "$HERE/$name.pcap"
    log "$name.pcap: $(tshark -r "$HERE/$name.pcap" 2>/dev/null | wc -l) frames"
}

SIPFILTER="host $PBX or host $XCC"

# ---------------------------------------------------------------------------------------
# Building blocks

# first_leg_fail NAME XHDR XCC_IDENT CODE REASON [DELAY_MS]
# PBX -> XCC INVITE with XHDR; XCC answers 100 and then CODE (no second leg).
# L1_FROM sets the caller; NO_CAPTURE=1 runs inside an already started capture.
first_leg_fail() {
    local name=$1 xhdr=$2 ident=$3 code=$4 reason=$5 delay=${6:-40}
    local srv=""; [ "$ident" = yes ] && srv=$(hdrs "Server: $XCC_UA")
    [ -n "${NO_CAPTURE:-}" ] || start_capture "$name" "$SIPFILTER"
    k_tag=$(hex "$name/xcc1" 10) k_srv="$srv" k_code=$code k_reason=$reason k_d=$delay \
        bg_sipp uas_reject.xml $XCC 5060 30000
    sleep 0.3
    k_ruri="$ANYDEV@$XCC:5060" k_from="<sip:${L1_FROM:-$CALLER}@$PBX>" k_to="<sip:$ANYDEV@$XCC>" \
    k_tag=$(hex "$name/pbx1" 10) k_cid=$(cid "$name/leg1" $PBX) \
    k_xhdr="$xhdr$(hdrs "User-Agent: $PBX_UA")" \
        fg_sipp uac_invite.xml $PBX 5061 40000 $XCC:5060
    wait_all
    [ -n "${NO_CAPTURE:-}" ] || stop_capture "$name"
}

# follow_me NAME: a call whose first leg reaches XCC, which then places the second leg.
# Variables read: L1_XHDR (Diversion/History-Info), IDENT (yes/no: XCC sends User-Agent/Server),
# L2 (ok|reject|cancel|early|nocodec|auth|multipart|ringout), L2_CODE/L2_REASON/L2_RHDR (PBX answer to the second leg),
# L2_TO (second-leg number), L2_CODECS/L2_RTPMAPS (XCC offer), L1_CODE/L1_REASON (XCC answer to
# the first leg when the second leg failed), TRANSPORT (u1|t1), L1_PORT (XCC trunk port),
# NO_CAPTURE=1 to run inside an already started capture.
follow_me() {
    local name=$1 tp=${TRANSPORT:-u1} l1port=${L1_PORT:-5060}
    local xsrv="" xua=""
    if [ "${IDENT:-no}" = yes ]; then xsrv=$(hdrs "Server: $XCC_UA"); xua=$(hdrs "User-Agent: $XCC_UA"); fi
    local psrv; psrv=$(hdrs "Server: $PBX_UA")
    local l2to=${L2_TO:-$MOBILE}
    [ -n "${NO_CAPTURE:-}" ] || start_capture "$name" "$SIPFILTER"

    # PBX side of the second leg (listens on 127.0.0.10:5060).
    local l2sf l1sf l1d l2d
    case $L2 in
      ok)      l2sf=uas_answer.xml;         l2d=1000 ;;
      reject)  l2sf=uas_reject.xml;         l2d=60 ;;
      cancel)  l2sf=uas_cancelled.xml;      l2d=0 ;;
      early)   l2sf=uas_early_media.xml;    l2d=0 ;;
      nocodec) l2sf=uas_answer_nocodec.xml; l2d=600 ;;
      auth)    l2sf=uas_challenge_reject.xml; l2d=60 ;;
      multipart) l2sf=uas_reject.xml;       l2d=60 ;;
      ringout) l2sf=uas_ring_reject.xml;    l2d=3000 ;;
    esac
    k_transport=$tp k_tag=$(hex "$name/pbx2" 10) k_srv="$psrv" k_d=$l2d \
    k_code=${L2_CODE:-} k_reason=${L2_REASON:-} k_rhdr=${L2_RHDR:-} \
    k_codecs=${L2_ANSWER_CODECS:-$CODECS_G711} k_rtpmaps=${L2_ANSWER_RTPMAPS:-$RTPMAP_G711} \
        bg_sipp $l2sf $PBX 5060 40010

    # XCC side of the second leg, started by the first-leg scenario after its 180.
    local xsf xd=0
    case $L2 in
      ok)      xsf=uac_invite.xml;         xd=2900 ;;
      reject)  xsf=uac_invite.xml ;;
      cancel)  xsf=uac_invite_cancel.xml;  xd=2000 ;;
      early)   xsf=uac_invite_cancel_early.xml; xd=2000 ;;
      nocodec) xsf=uac_invite_nocodec.xml ;;
      auth)    xsf=uac_invite_auth.xml ;;
      multipart) xsf=uac_invite_multipart.xml ;;
      ringout) xsf=uac_invite.xml ;;
    esac
    k_transport=$tp k_ruri="$l2to@$PBX:5060" k_from="<sip:${L1_FROM:-$CALLER}@$XCC>" k_to="<sip:$l2to@$PBX>" \
    k_tag=$(hex "$name/xcc2" 10) k_cid=$(cid "$name/leg2" $XCC) k_xhdr="$xua" k_d=$xd \
    k_codecs=${L2_CODECS:-$CODECS_G711} k_rtpmaps=${L2_RTPMAPS:-$RTPMAP_G711} \
        leg2_script $xsf $XCC 5062 30010 $PBX:5060

    # XCC side of the first leg.
    case $L2 in
      ok)      l1sf=uas_answer.xml;      l1d=1300 ;;
      reject)  l1sf=uas_ring_reject.xml; l1d=400 ;;
      cancel)  l1sf=uas_ring_reject.xml; l1d=2400 ;;
      early)   l1sf=uas_ring_reject.xml; l1d=2400 ;;
      nocodec) l1sf=uas_ring_reject.xml; l1d=1000 ;;
      auth)    l1sf=uas_ring_reject.xml; l1d=700 ;;
      multipart) l1sf=uas_ring_reject.xml; l1d=400 ;;
      ringout) l1sf=uas_ring_reject.xml; l1d=3600 ;;
    esac
    k_transport=$tp k_tag=$(hex "$name/xcc1" 10) k_srv="$xsrv" k_d=$l1d k_exec="$k_exec" \
    k_code=${L1_CODE:-480} k_reason=${L1_REASON:-Temporarily Unavailable} \
        bg_sipp $l1sf $XCC $l1port 30000
    sleep 0.3

    # PBX side of the first leg (the forwarded call).
    k_transport=$tp k_ruri="$ANYDEV@$XCC:$l1port" k_from="<sip:${L1_FROM:-$CALLER}@$PBX>" \
    k_to="<sip:$ANYDEV@$XCC>" k_tag=$(hex "$name/pbx1" 10) k_cid=$(cid "$name/leg1" $PBX) \
    k_xhdr="$L1_XHDR$(hdrs "User-Agent: $PBX_UA")" k_d=2500 \
        fg_sipp uac_invite.xml $PBX 5061 40000 $XCC:$l1port
    wait_leg2
    wait_all
    unset k_exec
    [ -n "${NO_CAPTURE:-}" ] || stop_capture "$name"
    [ -n "${NO_CAPTURE:-}" ] || check_order "$HERE/$name.pcap" "$(cid "$name/leg1" $PBX)" "$(cid "$name/leg2" $XCC)"
}

# check_order PCAP CID1 CID2: the capture must show the Follow-Me order
# leg1 180 < leg2 INVITE < leg2 final < leg1 final (< leg1 BYE < leg2 BYE when answered).
check_order() {
    tshark -r "$1" -Y sip -T fields -E occurrence=f -e frame.number -e sip.Call-ID \
        -e sip.Method -e sip.Status-Code -e sip.CSeq.method 2>/dev/null |
    awk -F'\t' -v c1="$2" -v c2="$3" -v f="$1" '
        function first(k, n) { if (!(k in at)) at[k] = n }
        $2 == c1 && $4 == 180 { first("l1_180", $1) }
        $2 == c2 && $3 == "INVITE" { first("l2_inv", $1) }
        $2 == c2 && $4 >= 200 && $5 == "INVITE" { first("l2_fin", $1) }
        $2 == c1 && $4 >= 200 && $5 == "INVITE" { first("l1_fin", $1) }
        $2 == c1 && $3 == "BYE" { first("l1_bye", $1) }
        $2 == c2 && $3 == "BYE" { first("l2_bye", $1) }
        END {
            ok = at["l1_180"] < at["l2_inv"] && at["l2_inv"] < at["l2_fin"] && at["l2_fin"] < at["l1_fin"]
            if (("l1_bye" in at) && ("l2_bye" in at)) ok = ok && at["l1_bye"] < at["l2_bye"]
            if (!ok) { print f ": unexpected message order, regenerate" > "/dev/stderr"; exit 1 }
        }'
}

DIV_OK=$(hdrs "Diversion: <sip:$USER@$PBX>;reason=unconditional")
div() { hdrs "Diversion: <sip:$1@$PBX>;reason=${2:-unconditional};counter=1"; }

# ---------------------------------------------------------------------------------------
# Fixtures

fx_healthy_diversion_udp() {
    L1_XHDR=$DIV_OK IDENT=yes L2=ok follow_me healthy-diversion-udp
}

fx_healthy_history_info_tcp() {
    L1_XHDR=$(hdrs "History-Info: <sip:$USER@$PBX>;index=1,<sip:$ANYDEV@$XCC;cause=302>;index=1.1") \
    IDENT=no L2=ok TRANSPORT=t1 L1_FROM=0301234567 follow_me healthy-history-info-tcp
}

fx_fm001_no_invite() {
    local name=fm001-no-invite
    start_capture $name "$SIPFILTER"
    # XCC names itself on its OPTIONS and their answers, as the real XCC does.
    k_m=2 k_tag=$(hex "$name/xcc" 8) k_srv=$(hdrs "Server: $XCC_UA") bg_sipp uas_options.xml $XCC 5060 30000
    k_m=2 k_tag=$(hex "$name/pbx" 8) k_srv=$(hdrs "Server: $PBX_UA") bg_sipp uas_options.xml $PBX 5060 40000
    sleep 0.3
    k_m=2 k_extra="-r 1 -rp 1000" k_ruri="$XCC:5060" k_from="<sip:$PBX>" k_to="<sip:$XCC>" \
    k_tag=$(hex "$name/pbxo" 8) k_cid="%u$(hex "$name/pbxo" 20)@$PBX" \
    k_xhdr=$(hdrs "User-Agent: $PBX_UA") \
        bg_sipp uac_options.xml $PBX 5061 40010 $XCC:5060
    sleep 0.5
    k_m=2 k_extra="-r 1 -rp 1000" k_ruri="$PBX:5060" k_from="<sip:$XCC>" k_to="<sip:$PBX>" \
    k_tag=$(hex "$name/xcco" 8) k_cid="%u$(hex "$name/xcco" 20)@$XCC" \
    k_xhdr=$(hdrs "User-Agent: $XCC_UA") \
        bg_sipp uac_options.xml $XCC 5062 30010 $PBX:5060
    wait_all
    stop_capture $name
}

fx_fm002_intl00()        { first_leg_fail fm002-intl00 "$(div 004930123456)" yes 503 "Service Unavailable"; }
fx_fm002_national0()     { first_leg_fail fm002-national0 "$(div 030123456 no-answer)" no 503 "Service Unavailable"; }
fx_fm002_prefix99()      { first_leg_fail fm002-prefix99 "$(div 99123)" yes 503 "Service Unavailable"; }
fx_fm002_plus_internal() {
    first_leg_fail fm002-plus-internal \
        "$(hdrs "History-Info: <sip:+123@$PBX>;index=1" "History-Info: <sip:$ANYDEV@$XCC?Reason=SIP%3Bcause%3D302>;index=1.1")" \
        no 503 "Service Unavailable"
}
fx_fm002_outside_prefix() { first_leg_fail fm002-outside-prefix "$(div 0004930123456)" yes 503 "Service Unavailable"; }
fx_fm003_no_diversion()   { first_leg_fail fm003-no-diversion "" no 503 "Service Unavailable"; }
fx_fm004_user_unknown()   { first_leg_fail fm004-user-unknown "$(div +4930999999)" yes 503 "Service Unavailable"; }

fx_fm005_wrong_trunk() {
    local name=fm005-wrong-trunk
    start_capture $name "$SIPFILTER"
    # Call 1: to the second trunk 127.0.0.20:5070, where the user is not configured -> 503.
    k_tag=$(hex "$name/xcc1a" 10) k_code=503 k_reason="Service Unavailable" k_d=40 \
        bg_sipp uas_reject.xml $XCC 5070 30020
    sleep 0.3
    k_ruri="$ANYDEV@$XCC:5070" k_from="<sip:$CALLER@$PBX>" k_to="<sip:$ANYDEV@$XCC>" \
    k_tag=$(hex "$name/pbx1a" 10) k_cid=$(cid "$name/leg1a" $PBX) \
    k_xhdr="$DIV_OK$(hdrs "User-Agent: $PBX_UA")" \
        fg_sipp uac_invite.xml $PBX 5061 40000 $XCC:5070
    wait_all
    sleep 1
    # Call 2: same user, same number format, to the trunk 127.0.0.20:5060 -> Follow-Me works.
    NO_CAPTURE=1 L1_XHDR=$DIV_OK IDENT=no L2=ok follow_me $name
    stop_capture $name
    check_order "$HERE/$name.pcap" "$(cid "$name/leg1" $PBX)" "$(cid "$name/leg2" $XCC)"
}

fx_fm006_second_leg_404() {
    L1_XHDR=$DIV_OK IDENT=yes L2=reject L2_TO=01701234567 L2_CODE=404 L2_REASON="Not Found" \
    L1_CODE=404 L1_REASON="Not Found" follow_me fm006-second-leg-404
}
fx_fm006_second_leg_484() {
    L1_XHDR=$DIV_OK IDENT=no L2=reject L2_CODE=484 L2_REASON="Address Incomplete" \
    follow_me fm006-second-leg-484
}
fx_fm007_second_leg_488() {
    L1_XHDR=$DIV_OK IDENT=no L2=reject L2_CODE=488 L2_REASON="Not Acceptable Here" \
    L2_RHDR=$(hdrs "Warning: 304 $PBX \"Media type not available\"") \
    L2_CODECS=$CODECS_WB L2_RTPMAPS=$RTPMAP_WB follow_me fm007-second-leg-488
}
fx_fm007_no_common_codec() {
    L1_XHDR=$DIV_OK IDENT=yes L2=nocodec L2_ANSWER_CODECS=$CODECS_G729 L2_ANSWER_RTPMAPS=$RTPMAP_G729 \
    follow_me fm007-no-common-codec
}
fx_fm008_second_leg_403() {
    L1_XHDR=$DIV_OK IDENT=yes L2=reject L2_CODE=403 L2_REASON=Forbidden follow_me fm008-second-leg-403
}
fx_fm008_second_leg_407_noretry() {
    L1_XHDR=$DIV_OK IDENT=no L2=reject L2_CODE=407 L2_REASON="Proxy Authentication Required" \
    L2_RHDR=$(hdrs "Proxy-Authenticate: Digest realm=\"ipoffice\", nonce=\"4f1c9a7be02d5e36\", algorithm=MD5, qop=\"auth\"") \
    follow_me fm008-second-leg-407-noretry
}
fx_fm009_second_leg_cancel() {
    L1_XHDR=$DIV_OK IDENT=yes L2=cancel follow_me fm009-second-leg-cancel
}

# The second leg gets 183 with early media (a network announcement: the mobile is switched
# off) and no 180; XCC cancels it after 2 s.
fx_fm011_second_leg_early_media() {
    L1_XHDR=$DIV_OK IDENT=yes L2=early follow_me fm011-second-leg-early-media
}

# A real failure of the second leg: the PBX answers 500 without ringing.
fx_fm009_second_leg_500() {
    L1_XHDR=$DIV_OK IDENT=yes L2=reject L2_CODE=500 L2_REASON="Server Internal Error" \
    follow_me fm009-second-leg-500
}
# The AnyDevice rings 3 s and the PBX's no-answer timer ends the second leg with 480.
fx_fm011_second_leg_ring_timeout() {
    L1_XHDR=$DIV_OK IDENT=yes L2=ringout L2_CODE=480 L2_REASON="Temporarily Unavailable" \
    follow_me fm011-second-leg-ring-timeout
}
# XCC's second leg carries a multipart/mixed body; the PBX accepts only SDP.
fx_fm009_second_leg_415() {
    L1_XHDR=$DIV_OK IDENT=yes L2=multipart L2_CODE=415 L2_REASON="Unsupported Media Type" \
    L2_RHDR=$(hdrs "Accept: application/sdp") follow_me fm009-second-leg-415
}
# The PBX challenges the second leg (407), XCC answers the challenge, the PBX refuses with 403.
fx_fm008_second_leg_407_retry_403() {
    L1_XHDR=$DIV_OK IDENT=yes L2=auth L2_CODE=403 L2_REASON=Forbidden \
    follow_me fm008-second-leg-407-retry-403
}

# Healthy Follow-Me call whose second-leg INVITE (a long codec list) is larger than a
# 1500-byte MTU, so the kernel sends it in IP fragments. Lowers lo's MTU to 1500 for the
# call: runs only inside a private network namespace (ip netns exec NS ./make.sh NAME).
fx_cap005_followme_fragmented() {
    [ -n "$(ip netns identify $$ 2>/dev/null)" ] || {
        echo "cap005-followme-fragmented lowers lo's MTU: run make.sh inside ip netns exec" >&2
        return 1
    }
    local mtu; mtu=$(cat /sys/class/net/lo/mtu)
    ip link set lo mtu 1500
    L1_XHDR=$DIV_OK IDENT=yes L2=ok L2_CODECS=$CODECS_ALL L2_RTPMAPS=$RTPMAP_ALL \
        follow_me cap005-followme-fragmented
    ip link set lo mtu "$mtu"
}

fx_fm010_invite_unanswered() {
    local name=fm010-invite-unanswered
    start_capture $name "$SIPFILTER"
    # XCC's port is open (no ICMP) but nothing answers.
    python3 -c 'import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.20",5060)); s.settimeout(0.2)
end=time.time()+9.5
while time.time()<end:
    try: s.recv(65535)
    except socket.timeout: pass' &
    PIDS+=($!)
    sleep 0.3
    k_ruri="$ANYDEV@$XCC:5060" k_from="<sip:$CALLER@$PBX>" k_to="<sip:$ANYDEV@$XCC>" \
    k_tag=$(hex "$name/pbx1" 10) k_cid=$(cid "$name/leg1" $PBX) \
    k_xhdr="$DIV_OK$(hdrs "User-Agent: $PBX_UA")" k_timeout=9 k_extra="-max_invite_retrans 3" \
        fg_sipp uac_invite.xml $PBX 5061 40000 $XCC:5060 || true
    wait_all
    stop_capture $name
}

fx_sip001_invite_failed() {
    local name=sip001-invite-failed
    start_capture $name "host 127.0.0.30 or host 127.0.0.40"
    k_tag=$(hex "$name/b" 10) k_code=486 k_reason="Busy Here" k_d=150 \
    k_srv=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        bg_sipp uas_reject.xml 127.0.0.40 5060 20010
    sleep 0.3
    k_ruri="201@127.0.0.40:5060" k_from="\"Reception\" <sip:200@127.0.0.30>" k_to="<sip:201@127.0.0.40>" \
    k_tag=$(hex "$name/a" 10) k_cid=$(cid "$name/a" 127.0.0.30) \
    k_xhdr=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        fg_sipp uac_invite.xml 127.0.0.30 5060 20000 127.0.0.40:5060
    wait_all
    stop_capture $name
}

# A forwarded call that reaches a B2BUA which is not XCC: the PBX (127.0.0.10) forwards the
# call with Diversion to an Asterisk-like box (127.0.0.50, agent "Asterisk PBX 18.10.0"), which
# rings and places its own call (new Call-ID, same caller) onward to a desk phone
# (127.0.0.60, "Yealink SIP-T46S"), not back to the PBX; the phone is busy (486) and the box
# passes 486 back. Nothing here is XCC.
fx_roles_b2bua_not_xcc() {
    local name=roles-b2bua-not-xcc box=127.0.0.50 phone=127.0.0.60
    local box_ua="Asterisk PBX 18.10.0" phone_ua="Yealink SIP-T46S 66.86.0.15"
    start_capture $name "host $PBX or host $box or host $phone"
    # The desk phone: busy.
    k_tag=$(hex "$name/phone" 10) k_code=486 k_reason="Busy Here" k_d=150 \
    k_srv=$(hdrs "User-Agent: $phone_ua") \
        bg_sipp uas_reject.xml $phone 5060 20010
    # The box's onward call, started after it has sent 180 on the forwarded one.
    k_ruri="201@$phone:5060" k_from="<sip:$CALLER@$box>" k_to="<sip:201@$phone>" \
    k_tag=$(hex "$name/box2" 10) k_cid=$(cid "$name/leg2" $box) \
    k_xhdr=$(hdrs "User-Agent: $box_ua") \
        leg2_script uac_invite.xml $box 5062 20020 $phone:5060
    # The box's side of the forwarded call: 100, 180, (onward call), 486.
    k_tag=$(hex "$name/box1" 10) k_srv=$(hdrs "Server: $box_ua") k_d=600 k_exec="$k_exec" \
    k_code=486 k_reason="Busy Here" \
        bg_sipp uas_ring_reject.xml $box 5060 20000
    sleep 0.3
    k_ruri="201@$box:5060" k_from="<sip:$CALLER@$PBX>" k_to="<sip:201@$box>" \
    k_tag=$(hex "$name/pbx1" 10) k_cid=$(cid "$name/leg1" $PBX) \
    k_xhdr="$DIV_OK$(hdrs "User-Agent: $PBX_UA")" \
        fg_sipp uac_invite.xml $PBX 5061 40000 $box:5060
    wait_leg2
    wait_all
    unset k_exec
    stop_capture $name
}

# Three gateways (127.0.0.10, 127.0.0.11, 127.0.0.12) each forward one call to XCC
# (127.0.0.20, naming itself in Server), one after the other; XCC answers each 200 and the
# gateway hangs up after the RTP. No second legs: the point is that all three are named.
fx_roles_three_gateways() {
    local name=roles-three-gateways gw i=0
    start_capture $name "host $XCC"
    for gw in $PBX 127.0.0.11 127.0.0.12; do
        i=$((i + 1))
        k_tag=$(hex "$name/xcc$i" 10) k_srv=$(hdrs "Server: $XCC_UA") k_d=200 \
            bg_sipp uas_answer.xml $XCC 5060 30000
        sleep 0.3
        k_ruri="$ANYDEV@$XCC:5060" k_from="<sip:+4915112345${i}00@$gw>" k_to="<sip:$ANYDEV@$XCC>" \
        k_tag=$(hex "$name/gw$i" 10) k_cid=$(cid "$name/gw$i" $gw) \
        k_xhdr="$DIV_OK$(hdrs "User-Agent: Gateway-$i/1.0")" k_d=500 \
            fg_sipp uac_invite.xml $gw 5061 $((40000 + 10 * i)) $XCC:5060
        wait_all
    done
    stop_capture $name
}

# A scanner's probe: two `OPTIONS sip:nm` from 127.0.0.70 ("friendly-scanner", as SIPVicious
# sends them) to the PBX, which answers 200. No INVITE, no XPhone server.
fx_roles_options_scanner() {
    local name=roles-options-scanner scanner=127.0.0.70
    start_capture $name "host $PBX or host $scanner"
    k_m=2 k_tag=$(hex "$name/pbx" 8) k_srv=$(hdrs "Server: $PBX_UA") bg_sipp uas_options.xml $PBX 5060 40000
    sleep 0.3
    k_m=2 k_extra="-r 1 -rp 500" k_ruri="nm" k_from="\"sipvicious\" <sip:100@1.1.1.1>" \
    k_to="\"sipvicious\" <sip:100@1.1.1.1>" k_tag=$(hex "$name/scan" 8) \
    k_cid="%u$(hex "$name/scan" 20)" k_xhdr=$(hdrs "User-Agent: friendly-scanner") \
        bg_sipp uac_options.xml $scanner 5070 40020 $PBX:5060
    wait_all
    stop_capture $name
}

# first_leg_calls NAME XHDR...: one capture holding one first leg per XHDR (the same caller,
# the central AnyDevice number, a Diversion/History-Info chain each), all answered 503 by XCC.
first_leg_calls() {
    local name=$1 i=0 xhdr; shift
    start_capture "$name" "$SIPFILTER"
    for xhdr in "$@"; do
        i=$((i + 1))
        k_tag=$(hex "$name/xcc$i" 10) k_srv=$(hdrs "Server: $XCC_UA") k_code=503 \
        k_reason="Service Unavailable" k_d=40 \
            bg_sipp uas_reject.xml $XCC 5060 30000
        sleep 0.3
        k_ruri="$ANYDEV@$XCC:5060" k_from="<sip:$CALLER@$PBX>" k_to="<sip:$ANYDEV@$XCC>" \
        k_tag=$(hex "$name/pbx$i" 10) k_cid=$(cid "$name/leg$i" $PBX) \
        k_xhdr="$xhdr$(hdrs "User-Agent: $PBX_UA")" \
            fg_sipp uac_invite.xml $PBX 5061 40000 $XCC:5060
        wait_all
        sleep 0.2
    done
    stop_capture "$name"
}

# A call forwarded twice (newest entry first, RFC 5806): the original called party, the last
# entry, is written with 00; the newest is E.164. Once as one comma-separated header line,
# once as two header lines, the second a tel: URI with a quoted reason.
fx_fm002_chain_one_line() {
    first_leg_fail fm002-chain-one-line \
        "$(hdrs "Diversion: <sip:$USER@$PBX>;reason=unconditional;counter=1, <sip:0049301234789@$PBX>;reason=no-answer;counter=1")" \
        yes 503 "Service Unavailable"
}
fx_fm002_chain_two_lines() {
    first_leg_fail fm002-chain-two-lines \
        "$(hdrs "Diversion: <sip:$USER@$PBX>;reason=unconditional;counter=1" "Diversion: <tel:0049301234789>;reason=\"no-answer\";counter=1")" \
        yes 503 "Service Unavailable"
}

# A chain whose original called party is well-formed E.164 but no user's: FM004, with the
# newest entry named as the likely Follow-Me user.
fx_fm004_chain_user_unknown() {
    first_leg_fail fm004-chain-user-unknown \
        "$(hdrs "Diversion: <sip:$USER@$PBX>;reason=unconditional;counter=1, <sip:+4930999999@$PBX>;reason=no-answer;counter=1")" \
        yes 503 "Service Unavailable"
}

# Every number format in one capture, in Diversion and History-Info, one call each.
fx_numbers_mixed() {
    local hi_to="<sip:$ANYDEV@$XCC?Reason=SIP%3Bcause%3D302>;index=1.1"
    first_leg_calls numbers-mixed \
        "$(div +4930123456)" \
        "$(div 201)" \
        "$(div 004930123457)" \
        "$(hdrs "History-Info: <sip:030123458@$PBX>;index=1,$hi_to")" \
        "$(div 99202)" \
        "$(hdrs "History-Info: <sip:+203@$PBX>;index=1" "History-Info: $hi_to")" \
        "$(div 49301234175)" \
        "$(hdrs "History-Info: <sip:49301234176@$PBX>;index=1,$hi_to")"
}

# The central AnyDevice number 8999 (four digits) while the users' internal numbers have three.
fx_fm012_anydevice_long() {
    ANYDEV=8999 first_leg_fail fm012-anydevice-long "$(div 201)" yes 503 "Service Unavailable"
}

# sip001-invite-failed with a Call-ID holding a double quote and a backslash (legal in a
# Call-ID: RFC 3261 section 25.1 `word`), which a Wireshark filter must escape.
fx_sip001_quoted_call_id() {
    local name=sip001-quoted-call-id
    start_capture $name "host 127.0.0.30 or host 127.0.0.40"
    k_tag=$(hex "$name/b" 10) k_code=486 k_reason="Busy Here" k_d=150 \
    k_srv=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        bg_sipp uas_reject.xml 127.0.0.40 5060 20010
    sleep 0.3
    k_ruri="201@127.0.0.40:5060" k_from="\"Reception\" <sip:200@127.0.0.30>" k_to="<sip:201@127.0.0.40>" \
    k_tag=$(hex "$name/a" 10) k_cid="q\"uo\\te-$(cid "$name/a" 127.0.0.30)" \
    k_xhdr=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        fg_sipp uac_invite.xml 127.0.0.30 5060 20000 127.0.0.40:5060
    wait_all
    stop_capture $name
}

# A busy site at scale: 60 forwarded calls in one capture, one caller each. Every tenth is
# answered (both legs, RTP); the others are answered 503 by XCC, their forwarded numbers in
# every format XCC does not understand (00, national 0, prefix 99, a + before an internal
# number, international without + or 00) and some E.164 numbers of no user. For the
# report's grouping: one entry per cause, one suggestion proven on every number.
fx_many_calls() {
    local name=many-calls i n
    start_capture $name "$SIPFILTER"
    for i in $(seq 1 60); do
        n=$(printf '%02d' "$i")
        if [ $((i % 10)) = 0 ]; then
            NO_CAPTURE=1 L1_XHDR=$(div "+49301234$n") IDENT=yes L2=ok L1_FROM="+498910$n" \
                follow_me "$name-$n"
        else
            local number
            case $((i % 6)) in
              0) number="0049301234$n" ;;
              1) number="0301234$n" ;;
              2) number="991$n" ;;
              3) number="+2$n" ;;
              4) number="49301234$n" ;;
              5) number="+49309999$n" ;;
            esac
            NO_CAPTURE=1 L1_FROM="+498910$n" first_leg_fail "$name-$n" "$(div "$number")" yes 503 "Service Unavailable"
        fi
        sleep 0.1
    done
    stop_capture $name
}

# Copy of fm002-intl00.pcap cut in the middle of the frame carrying the 503.
fx_cap_followme_truncated() {
    local src="$HERE/fm002-intl00.pcap"
    [ -f "$src" ] || fx_fm002_intl00
    local n; n=$(tshark -r "$src" -Y 'sip.Status-Code == 503' -T fields -e frame.number | head -1)
    local cut; cut=$(python3 - "$src" "$n" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
want = int(sys.argv[2])
end = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off, n = 24, 0
while off < len(data):
    n += 1
    incl = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    if n == want:
        print(off + 16 + incl // 2)
        break
    off += 16 + incl
EOF
)
    head -c "$cut" "$src" > "$HERE/cap-followme-truncated.pcap"
    log "cap-followme-truncated.pcap: first $cut bytes of fm002-intl00.pcap (cut inside frame $n)"
}

# A busy site: six Follow-Me calls from different callers in one capture (answered and
# rejected 503, Diversion numbers in several formats, one History-Info) and an unrelated
# call between two phones, for the report's focus flags and ladders.
fx_busy_site() {
    local name=busy-site
    start_capture $name "$SIPFILTER or host 127.0.0.30 or host 127.0.0.40"
    NO_CAPTURE=1 L1_XHDR=$DIV_OK IDENT=yes L2=ok L1_FROM=+4989100001 follow_me $name-1
    sleep 0.5
    NO_CAPTURE=1 L1_FROM=+4989100002 first_leg_fail $name-2 "$(div 004930123457)" yes 503 "Service Unavailable"
    sleep 0.5
    NO_CAPTURE=1 L1_XHDR=$(hdrs "History-Info: <sip:+4930123458@$PBX>;index=1,<sip:$ANYDEV@$XCC;cause=302>;index=1.1") \
        IDENT=yes L2=ok L1_FROM=+4989100003 follow_me $name-3
    sleep 0.5
    NO_CAPTURE=1 L1_FROM=+4989100004 first_leg_fail $name-4 "$(div 030123459 no-answer)" yes 503 "Service Unavailable"
    sleep 0.5
    NO_CAPTURE=1 L1_FROM=+4989100005 first_leg_fail $name-5 "$(div 99124)" yes 503 "Service Unavailable"
    sleep 0.5
    NO_CAPTURE=1 L1_XHDR=$(div 125) IDENT=yes L2=ok L1_FROM=+4989100006 follow_me $name-6
    sleep 0.5
    k_tag=$(hex "$name/b" 10) k_code=486 k_reason="Busy Here" k_d=150 \
    k_srv=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        bg_sipp uas_reject.xml 127.0.0.40 5060 20010
    sleep 0.3
    k_ruri="202@127.0.0.40:5060" k_from="\"Reception\" <sip:200@127.0.0.30>" k_to="<sip:202@127.0.0.40>" \
    k_tag=$(hex "$name/a" 10) k_cid=$(cid "$name/a" 127.0.0.30) \
    k_xhdr=$(hdrs "User-Agent: Yealink SIP-T46S 66.86.0.15") \
        fg_sipp uac_invite.xml 127.0.0.30 5060 20000 127.0.0.40:5060
    wait_all
    stop_capture $name
}

# Two capture points of one Follow-Me call: the PBX and XCC in network namespaces of their
# own, joined by a veth pair, a tcpdump on each end (PBX side: pcap; XCC side: pcapng via
# editcap). The second leg is rejected 404 (FM006), so findings cite both legs. Every packet
# is seen at both points (one link between them): sipdiag must count each message once.
declare -A NETNS_FOR=()
fx_merge_followme() {
    local name=merge-followme np=sdm-merge-pbx nx=sdm-merge-xcc
    local pbx_saved=$PBX xcc_saved=$XCC
    ip netns del $np 2>/dev/null || true; ip netns del $nx 2>/dev/null || true
    ip netns add $np; ip netns add $nx
    ip link add sdm-p type veth peer name sdm-x
    ip link set sdm-p netns $np; ip link set sdm-x netns $nx
    for ns in $np $nx; do
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip -n $ns link set lo up
    done
    ip -n $np addr add 10.99.0.10/24 dev sdm-p; ip -n $np link set sdm-p up
    ip -n $nx addr add 10.99.0.20/24 dev sdm-x; ip -n $nx link set sdm-x up
    PBX=10.99.0.10 XCC=10.99.0.20
    NETNS_FOR=([$PBX]=$np [$XCC]=$nx)
    local p x
    ip netns exec $np tcpdump -i sdm-p -s 0 -U --immediate-mode -n -w "$WORK/pbx.pcap" udp 2>"$WORK/tcpdump-p.err" &
    p=$!
    ip netns exec $nx tcpdump -i sdm-x -s 0 -U --immediate-mode -n -w "$WORK/xcc.pcap" udp 2>"$WORK/tcpdump-x.err" &
    x=$!
    local i
    for i in $(seq 1 50); do
        grep -q "listening on" "$WORK/tcpdump-p.err" && grep -q "listening on" "$WORK/tcpdump-x.err" && break
        sleep 0.1
    done
    sleep 0.3
    NO_CAPTURE=1 L1_XHDR=$(div 004930123456) IDENT=yes L2=reject L2_TO=01701234567 \
        L2_CODE=404 L2_REASON="Not Found" L1_CODE=404 L1_REASON="Not Found" follow_me $name
    sleep 0.5
    kill -INT $p $x; wait $p $x || true
    NETNS_FOR=(); PBX=$pbx_saved XCC=$xcc_saved
    ip netns del $np; ip netns del $nx
    cp "$WORK/pbx.pcap" "$HERE/merge-pbx-side.pcap"
    editcap -F pcapng "$WORK/xcc.pcap" "$HERE/merge-xcc-side.pcapng"
    # tshark's listing of each side, and of the two merged as mergecap merges them.
    (cd "$HERE" && editcap -F pcap merge-xcc-side.pcapng "$WORK/merge-xcc-side.pcap" &&
        cp "$WORK/merge-xcc-side.pcap" merge-xcc-side.pcap && ./oracle.sh merge-pbx-side merge-xcc-side &&
        rm merge-xcc-side.pcap &&
        mergecap -F pcap -w merge-merged.pcap merge-pbx-side.pcap merge-xcc-side.pcapng &&
        ./oracle.sh merge-merged && rm merge-merged.pcap)
    log "merge-pbx-side.pcap, merge-xcc-side.pcapng: $(tshark -r "$HERE/merge-pbx-side.pcap" | wc -l) and $(tshark -r "$HERE/merge-xcc-side.pcapng" | wc -l) frames"
}

ALL=(healthy-diversion-udp healthy-history-info-tcp fm001-no-invite fm002-intl00 fm002-national0
     fm002-prefix99 fm002-plus-internal fm002-outside-prefix fm003-no-diversion fm004-user-unknown
     fm005-wrong-trunk fm006-second-leg-404 fm006-second-leg-484 fm007-second-leg-488
     fm007-no-common-codec fm008-second-leg-403 fm008-second-leg-407-noretry
     fm009-second-leg-cancel fm010-invite-unanswered sip001-invite-failed cap-followme-truncated
     fm009-second-leg-500 fm009-second-leg-415 fm008-second-leg-407-retry-403
     cap005-followme-fragmented fm011-second-leg-ring-timeout fm011-second-leg-early-media
     busy-site roles-b2bua-not-xcc roles-three-gateways roles-options-scanner
     fm002-chain-one-line fm002-chain-two-lines numbers-mixed fm012-anydevice-long
     fm004-chain-user-unknown sip001-quoted-call-id many-calls merge-followme)

editcap -F pcap -r "$RTP_SRC" "$WORK/rtp-src.pcap" 1-67 >/dev/null   # 67 x 30 ms PCMA = 2 s of audio
cp "$HERE"/*.xml "$WORK/"

if [ $# -gt 0 ]; then LIST=("$@"); else LIST=("${ALL[@]}"); fi
for f in "${LIST[@]}"; do
    log "$f"
    "fx_${f//-/_}"
done
"$HERE/oracle.sh" "${LIST[@]}"
