#!/usr/bin/env bash
# Peak RSS of `netsim sweep` as the number of variations grows (issue 15, docs/cluster.md):
#
#   bench/run_sweep_bench.sh [N...]     (default 10000 100000 1000000; env: BUILD, JOBS=2)
#
# Sweeps seeds 1..N of a small scenario (tests/data/check/ok.json: two hosts, ten UDP
# datagrams) under /usr/bin/time -v, whole process, and prints per N the wall and CPU time,
# runs per CPU second and peak RSS. Flat memory means the last column does not grow with N.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$repo/build}"
jobs="${JOBS:-2}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
scenario="$repo/tests/data/check/ok.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-10s %10s %10s %14s %12s\n' runs wall_s cpu_s runs/cpu_s peak_rss_kib
for n in "${sizes[@]}"; do
  /usr/bin/time -v "$build/netsim" sweep "$scenario" --set "/seed=1..$n" -j"$jobs" --progress never \
    >"$work/table" 2>"$work/time" || true
  grep -q "runs: $n passed, 0 failed, 0 invalid" "$work/table" || { cat "$work/table" "$work/time" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$work/time")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$work/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  printf '%-10s %10.1f %10.1f %14.0f %12s\n' "$n" "$wall" "$cpu" "$(awk -v n="$n" -v c="$cpu" 'BEGIN {print (c > 0 ? n / c : 0)}')" "$rss"
done
