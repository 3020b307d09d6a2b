#!/usr/bin/env bash
# Regenerates the README's gallery from testdata/followme/fm006-second-leg-404.pcap (a
# Follow-Me call whose second leg the PBX rejects): the table report and the ladder as text
# (analyze.txt, flow.txt, each starting with its command line) and a screenshot of the HTML
# report (report.png, headless Chromium). The README's blocks between the
# `<!-- gallery:NAME -->` and `<!-- /gallery:NAME -->` markers are replaced with the text
# files; tests/html.rs fails when they differ from what sipdiag prints today. The PNG is not
# compared (fonts differ between machines), only regenerated here.
#
# Usage: testdata/gallery/make.sh   (from anywhere; needs cargo and /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=testdata/gallery
cargo build --quiet
bin=target/debug/sipdiag
cap=testdata/followme/fm006-second-leg-404.pcap
# The widths and colours the README's blocks are checked at.
export NO_COLOR=1 COLUMNS=100

# `$ sipdiag ARGS` then the output (exit 1 is a report with findings, not a failure).
show() {
    local name=$1
    shift
    {
        echo "\$ sipdiag $*"
        "$bin" "$@" || [ $? -eq 1 ]
    } >"$out/$name.txt"
}
show analyze analyze "$cap"
show flow flow "$cap"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" analyze --format html -o "$tmp/report.html" "$cap" || [ $? -eq 1 ]
/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$tmp/profile" --window-size=1100,1350 \
    --screenshot="$out/report.png" "file://$tmp/report.html" 2>/dev/null

# Replace each README block with its text file, inside a ```text fence.
for name in analyze flow; do
    awk -v name="$name" -v file="$out/$name.txt" '
        $0 == "<!-- gallery:" name " -->" {
            print; print "```text"
            while ((getline line < file) > 0) print line
            print "```"; skip = 1; next
        }
        $0 == "<!-- /gallery:" name " -->" { skip = 0 }
        !skip { print }
    ' README.md >"$tmp/README.md"
    cp "$tmp/README.md" README.md
done
echo "gallery regenerated: $out/analyze.txt $out/flow.txt $out/report.png; README.md updated"
