#!/usr/bin/env bash
# "routes": "auto" at scale, one command:
#
#   bench/run_tree_bench.sh     (env: BUILD (default build-bench; configured Release -O2 if it
#                                has no CMakeCache.txt), HOSTS=100000 ROUTERS=1000 PINGS=100,
#                                IDLE="50000 100000")
#
# Generates with bench/gen_tree.py a two-level tree (HOSTS hosts under ROUTERS routers under a
# core, "routes": "auto", PINGS pings between subtrees) and idle scenarios (N hosts with one
# interface and one address each), and runs each as a whole process, `netsim run FILE`, under
# /usr/bin/time -v: the tree with `--trace-level none` and with the full trace to a file, the
# idle ones with `--trace-level none`. Prints wall time, CPU (user + sys) and peak RSS; the tree
# must PASS (every ping answered with the expected RTT), else exit 1. The per-host memory of
# an idle host is the peak-RSS slope between the first two IDLE sizes.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$repo/build-bench}"
hosts="${HOSTS:-100000}"
routers="${ROUTERS:-1000}"
pings="${PINGS:-100}"
read -r -a idle <<<"${IDLE:-50000 100000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DNETSIM_BENCH=ON >/dev/null
fi
cmake --build "$build" -j2 --target netsim >/dev/null
netsim="$build/netsim"

# measure NAME ARGS...: one whole-process run; prints a row, returns netsim's exit status.
measure() {
  local name="$1"
  shift
  local status=0
  /usr/bin/time -v -o "$work/time" "$netsim" run "$@" >"$work/out" 2>&1 || status=$?
  local wall user sys rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
  user=$(awk -F': ' '/User time/ {print $2}' "$work/time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$work/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  printf '%-34s exit %d  wall %8s  cpu %7.2f s  peak RSS %7.1f MiB\n' "$name" "$status" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "scale=1; $rss / 1024" | bc)"
  echo "$rss" >"$work/rss"
  return "$status"
}

echo "netsim run, $(date -u +%F), commit $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$repo/bench/gen_tree.py" "$hosts" "$routers" "$pings" >"$work/tree.json"
status=0
measure "tree $hosts/$routers, $pings pings, none" "$work/tree.json" --trace-level none || status=1
grep -q '^PASS' "$work/out" || { cat "$work/out" >&2; status=1; }
measure "tree $hosts/$routers, $pings pings, trace" "$work/tree.json" --trace "$work/tree.jsonl" || status=1
grep -q '^PASS' "$work/out" || { cat "$work/out" >&2; status=1; }
rm -f "$work/tree.jsonl"

declare -a idle_rss
for n in "${idle[@]}"; do
  python3 "$repo/bench/gen_tree.py" --idle "$n" >"$work/idle.json"
  measure "idle $n hosts, none" "$work/idle.json" --trace-level none || status=1
  idle_rss+=("$(cat "$work/rss")")
done
if [ "${#idle[@]}" -ge 2 ]; then
  echo "idle host with one interface: $(( (idle_rss[1] - idle_rss[0]) * 1024 / (idle[1] - idle[0]) )) bytes" \
       "(peak RSS slope, ${idle[0]} to ${idle[1]} hosts)"
fi
exit "$status"
