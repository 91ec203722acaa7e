#!/usr/bin/env bash
# Event loop vs the performance anchors (see bench/anchors/README.md).
#
#   bench/run_event_loop_bench.sh [REPS]      (default REPS=5; env: ANCHORS, BUILD, WARMUP)
#
# Builds bench/event_loop_bench (Release, -O2 like the anchors) in $BUILD (default
# build-bench-loop), copies the anchors to a temporary directory and builds `limit`
# and, when libns3-dev is installed, ns-3 `events`. Then, for hold 1e7 and bulk
# 1e6, runs netsim / limit-binary / limit-radix / ns3-map / ns3-pq interleaved
# (one round = every case once), WARMUP uncounted rounds (default 1) then REPS
# counted ones, and prints per case the median [min-max] events/s, peak RSS, the
# order_hash check against the anchors' table, and netsim's paired ratio (median
# [min-max] of per-round netsim/case rates). Exits 1 if any order_hash is wrong.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-5}"
warmup="${WARMUP:-1}"
anchors="${ANCHORS:-$repo/bench/anchors}"
build="${BUILD:-$repo/build-bench-loop}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$anchors/limit/limit.cc" ]; then
  echo "anchors not found at $anchors (set ANCHORS=/path/to/anchors)" >&2
  exit 2
fi
cp -r "$anchors" "$work/anchors"
chmod -R u+w "$work/anchors"
make -s -C "$work/anchors/limit" >/dev/null
have_ns3=0
if [ -f /usr/include/ns3/core-module.h ] && ls /usr/lib/*/libns3-core.so >/dev/null 2>&1; then
  if make -s -C "$work/anchors/ns3" events >"$work/ns3-build.log" 2>&1; then
    have_ns3=1
  else
    echo "NOTE: building ns-3 'events' failed (see below); ns-3 cases skipped" >&2
    tail -5 "$work/ns3-build.log" >&2
  fi
else
  echo "NOTE: ns-3 is NOT installed (apt-get install -y libns3-dev); ns-3 cases skipped"
fi

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DNETSIM_BENCH=ON >/dev/null
cmake --build "$build" --target event_loop_bench -j2 >/dev/null
netsim_bin="$build/bench/event_loop_bench"
limit_bin="$work/anchors/limit/limit"
events_bin="$work/anchors/ns3/events"

hold="--n=10000000 --mode=hold --pending=10000"
bulk="--n=1000000 --mode=bulk"
declare -A expected=([hold]=805f633c9ff8f44f [bulk]=505998564acee7d9)
# workload | case | command
cases=(
  "hold|netsim|$netsim_bin $hold"
  "hold|limit-binary|$limit_bin $hold --queue=binary"
  "hold|limit-radix|$limit_bin $hold --queue=radix"
  "bulk|netsim|$netsim_bin $bulk"
  "bulk|limit-binary|$limit_bin $bulk --queue=binary"
  "bulk|limit-radix|$limit_bin $bulk --queue=radix"
)
if [ "$have_ns3" = 1 ]; then
  cases+=(
    "hold|ns3-map|$events_bin $hold --scheduler=map"
    "hold|ns3-pq|$events_bin $hold --scheduler=pq"
    "bulk|ns3-map|$events_bin $bulk --scheduler=map"
    "bulk|ns3-pq|$events_bin $bulk --scheduler=pq"
  )
fi

field() { grep -o " $1=[^ ]*" | head -1 | cut -d= -f2; }
for round in $(seq 1 $((warmup + reps))); do
  for c in "${cases[@]}"; do
    IFS='|' read -r wl name cmd <<<"$c"
    # shellcheck disable=SC2086
    line="$($cmd | grep '^RESULT')" || { echo "FAILED: $cmd" >&2; exit 1; }
    [ "$round" -le "$warmup" ] && continue
    echo "$(field events_per_s <<<"$line") $(field peak_rss_kb <<<"$line") $(field order_hash <<<"$line")" \
      >>"$work/$wl.$name"
  done
  echo "round $round/$((warmup + reps)) done" >&2
done

stats() { sort -g | awk '{v[NR]=$1} END{ if(NR==0){print "-"; exit}
  m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.3g [%.3g-%.3g]", m, v[1], v[NR] }'; }
mstats() { sort -g | awk '{v[NR]=$1/1e6} END{
  m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f M [%.2f-%.2f]", m, v[1], v[NR] }'; }

status=0
echo
echo "event loop benchmark, $(date -u +%F), commit $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$reps counted rounds after $warmup warm-up, cases interleaved; ratio = netsim/case, median [min-max] of per-round ratios"
printf "%-8s %-13s %-28s %-10s %-10s %s\n" workload case "events/s median [min-max]" "RSS MiB" order_hash "netsim / case"
for wl in hold bulk; do
  for c in "${cases[@]}"; do
    IFS='|' read -r w name _ <<<"$c"
    [ "$w" = "$wl" ] || continue
    f="$work/$wl.$name"
    rate="$(cut -d' ' -f1 "$f" | mstats)"
    rss="$(cut -d' ' -f2 "$f" | awk '{print $1/1024}' | stats | cut -d' ' -f1)"
    if [ "$(cut -d' ' -f3 "$f" | sort -u)" = "${expected[$wl]}" ]; then hash=match; else hash=MISMATCH; status=1; fi
    ratio="-"
    if [ "$name" != netsim ]; then
      ratio="$(paste -d' ' "$work/$wl.netsim" "$f" | awk '{print $1/$4}' | stats)"
    fi
    printf "%-8s %-13s %-28s %-10s %-10s %s\n" "$wl" "$name" "$rate" "$rss" "$hash" "$ratio"
  done
done
[ "$have_ns3" = 1 ] || echo "ns-3: NOT INSTALLED, no ns-3 figures (apt-get install -y libns3-dev)"
exit $status
