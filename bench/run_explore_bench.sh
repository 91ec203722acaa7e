#!/usr/bin/env bash
# `netsim explore --depth 2` on every bundled scenario (issue 17's target: under 10 s each;
# docs/explore.md, "Cost"):
#
#   bench/run_explore_bench.sh [DEPTH]     (default 2; env: BUILD, JOBS=2)
#
# Runs each scenarios/**/*.json (the schema aside) under /usr/bin/time, whole process, and
# prints per scenario the exit code, wall and CPU time, peak RSS and the schedules run and
# pruned, then the totals, the slowest and the machine's load before and after.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$repo/build}"
jobs="${JOBS:-2}"
depth="${1:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-55s %4s %8s %8s %12s %8s %8s\n' scenario exit wall_s cpu_s peak_rss_kib run pruned
cd "$repo"
find scenarios -name '*.json' -not -path 'scenarios/schema/*' | sort >"$work/list"
while read -r f; do
  code=0
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$build/netsim" explore "$f" --depth "$depth" -j"$jobs" \
    >"$work/out" 2>"$work/err" || code=$?
  [ "$code" -le 1 ] || { cat "$work/out" "$work/err" >&2; exit 1; }
  read -r wall user sys rss < <(tail -n 1 "$work/time")  # after "Command exited with ..."
  run=$(sed -n 's/^  schedules: \([0-9]*\) run.*/\1/p' "$work/out")
  pruned=$(sed -n 's/.*; \([0-9]*\) pruned by the reduction.*/\1/p' "$work/out")
  printf '%-55s %4s %8.2f %8.2f %12s %8s %8s\n' "$f" "$code" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" \
    "$rss" "$run" "$pruned" | tee -a "$work/rows"
done <"$work/list"
awk '{n++; run += $6; pruned += $7; if ($3 > w) {w = $3; slow = $1}}
     END {printf "%d scenarios: %d schedules run, %d pruned; slowest %s (%.2f s wall)\n", n, run, pruned, slow, w}' "$work/rows"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
