#!/usr/bin/env bash
# Runs each target in turn for SECONDS seconds (analyze: ANALYZE_SECONDS), one job, one
# worker; libFuzzer's log of each run lands in fuzz/logs/TARGET.log. Usage:
#   fuzz/run-all.sh [TARGET...]      (default: every target)
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p logs
secs=${SECONDS_PER_TARGET:-180}
targets=${*:-sip sdp stun tcp defrag sctp xcc_pattern site ipo_config analyze}
for t in $targets; do
    s=$secs; max=4096; extra=(); asan=${ASAN_OPTIONS:-}
    # analyze leaks its calls on purpose (the process ends right after the report; see
    # app.rs, "std::mem::forget"): leak detection, per input and at exit, would report
    # every input with a call.
    if [ "$t" = analyze ]; then
        s=${ANALYZE_SECONDS:-600}; max=262144; extra=(-detect_leaks=0); asan=detect_leaks=0
    fi
    mkdir -p "corpus/$t" "artifacts/$t"
    (cd logs && ASAN_OPTIONS=$asan TMPDIR=/dev/shm cargo +nightly fuzz run --fuzz-dir .. "$t" "../corpus/$t" -- \
        -jobs=1 -workers=1 -max_total_time="$s" -max_len="$max" -timeout=10 \
        -rss_limit_mb=2048 -close_fd_mask=1 -artifact_prefix="../artifacts/$t/" "${extra[@]}" \
        >"$t.run.log" 2>&1)
    rc=$?
    # Each run's log is kept (TARGET.log, then TARGET.1.log, ...): coverage over runs.
    n=""; while [ -e "logs/$t$n.log" ]; do n=.$(( ${n#.} + 1 )); done
    mv -f logs/fuzz-0.log "logs/$t$n.log"
    echo "$t: exit $rc $(grep -E '^#[0-9]+' "logs/$t$n.log" | tail -1)"
done
