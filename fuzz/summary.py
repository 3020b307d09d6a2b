#!/usr/bin/env python3
"""Summarises fuzz/logs/TARGET.log (libFuzzer's output of run-all.sh): runs, seconds,
coverage (cov = edges, ft = features) at the end and at half and three quarters of the
runs (equal rates: of the time), so a plateau shows as equal numbers; and the artifacts
(crash-, timeout-, oom-, leak-) left in fuzz/artifacts/TARGET/."""
import glob, os, re, sys

os.chdir(os.path.dirname(os.path.abspath(__file__)))
print("| target | runs | seconds | cov / ft at 1/2 | at 3/4 | at end | corpus | artifacts |")
print("|---|---|---|---|---|---|---|---|")
for log in sorted(glob.glob("logs/*.log")):
    t = os.path.basename(log)[:-4]
    if t.endswith(".run") or t.startswith("fuzz-"):
        continue
    points, done, secs, corp = [], None, "?", "?"
    for line in open(log, errors="replace"):
        m = re.match(r"#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)(?: corp: (\S+))?", line)
        if m:
            points.append((int(m[1]), int(m[2]), int(m[3])))
            corp = m[4] or corp
        m = re.match(r"Done (\d+) runs in (\d+) second", line)
        if m:
            done, secs = int(m[1]), m[2]
    if not points:
        continue
    runs = done or points[-1][0]
    def at(frac):
        best = points[0]
        for p in points:
            if p[0] <= runs * frac:
                best = p
        return f"{best[1]} / {best[2]}"
    arts = [os.path.basename(a) for a in glob.glob(f"artifacts/{t.split('.')[0]}/*")]
    print(f"| {t} | {runs} | {secs} | {at(0.5)} | {at(0.75)} | {at(1.0)} | {corp} | {', '.join(arts) or 'none'} |")
