#!/usr/bin/env bash
# netsim vs ns-3 on the anchor workloads (bench/anchors/README.md), one command:
#
#   bench/run_bench.sh [REPS]     (default 3; env: ANCHORS, BUILD, WARMUP=1, ONLY=udp|tcp|...,
#                                  IDLE_N=200000, SUITE_N=1000, SKIP_LOOP=1, SKIP_LOOKUP=1)
#
# Copies the anchors to a temp dir, builds ns-3's `udp` and `tcp` (and `events` via
# run_event_loop_bench.sh) and netsim (Release -O2, $BUILD, default build-bench), generates the
# equivalent scenarios with bench/gen_star.py, and runs ns-3 and netsim interleaved (A B A B,
# WARMUP uncounted rounds, then REPS), each under /usr/bin/time -v. netsim runs with
# `--trace-level none --stats` (no trace lines; counters checked instead). Prints per case the
# median [min-max] simulation wall time (ns-3: Simulator::Run(); netsim: the event loop),
# datagrams/s or router packets/s, events per datagram/packet, peak RSS, and the paired ratio
# netsim rate / ns-3 rate (median [min-max] of per-round ratios).
# Checks (exit 1 on failure): UDP: delivered == sent, no drops, every datagram 201.504 us after
# it was sent; TCP: router packets within 3% of ns-3's, no drops/losses.
# Then: socket lookup 10..1e6 sockets, memory per idle TCP connection, SUITE_N small scenarios
# under `netsim check -j2`, and the event loop (run_event_loop_bench.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
warmup="${WARMUP:-1}"
only="${ONLY:-}"
anchors="${ANCHORS:-$repo/bench/anchors}"
build="${BUILD:-$repo/build-bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0

[ -f "$anchors/ns3/udp.cc" ] || { echo "anchors not found at $anchors (set ANCHORS=...)" >&2; exit 2; }
cp -r "$anchors" "$work/anchors"
chmod -R u+w "$work/anchors"
if ! make -s -C "$work/anchors/ns3" udp tcp >"$work/ns3-build.log" 2>&1; then
  echo "building the ns-3 anchors failed (apt-get install -y libns3-dev):" >&2
  tail -5 "$work/ns3-build.log" >&2
  exit 2
fi
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DNETSIM_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target netsim idle_conn_bench socket_lookup_bench >/dev/null
netsim="$build/netsim"
gen="/usr/bin/python3 $repo/bench/gen_star.py"

# name | ns-3 command | netsim scenario | unit (datagrams|router packets) | count
cases=()
for hk in 2:160000 16:20000 64:5000; do
  h=${hk%%:*} k=${hk##*:}
  $gen udp "$h" "$k" >"$work/udp-h$h.json"
  cases+=("udp H=$h|$work/anchors/ns3/udp --hosts=$h --packets=$k|$work/udp-h$h.json|$((h * k))")
done
for cb in 1:100000000 4:25000000 16:6250000; do
  c=${cb%%:*} b=${cb##*:}
  $gen tcp "$c" "$b" >"$work/tcp-c$c.json"
  cases+=("tcp C=$c|$work/anchors/ns3/tcp --flows=$c --bytes=$b|$work/tcp-c$c.json|0")
done

field() { grep -o "\b$1=[^ ]*" | head -1 | cut -d= -f2; }
rss_of() { grep "Maximum resident set size" "$1" | awk '{print $NF}'; }
key() { echo "$1" | tr ' =' '__'; }

for round in $(seq 1 $((warmup + reps))); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name ns3cmd scen count <<<"$c"
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
    k=$(key "$name")
    # ns-3
    # shellcheck disable=SC2086
    out="$(/usr/bin/time -v -o "$work/time" $ns3cmd)" || { echo "FAILED: $ns3cmd" >&2; status=1; continue; }
    line="$(grep '^RESULT' <<<"$out")"
    n3_run=$(field run_s <<<"$line") n3_events=$(field events <<<"$line") n3_router=$(field router_rx <<<"$line")
    n3_rss=$(rss_of "$work/time")
    # netsim
    out="$(/usr/bin/time -v -o "$work/time" "$netsim" run "$scen" --trace-level none --stats -q)" ||
      { echo "FAILED: netsim run $scen" >&2; status=1; continue; }
    line="$(grep '^STATS' <<<"$out")"
    ns_run=$(field loop_s <<<"$line") ns_events=$(field events <<<"$line") ns_router=$(field forwarder_rx <<<"$line")
    ns_rss=$(rss_of "$work/time")
    drops=$(( $(field dropped <<<"$line") + $(field link_queue_full <<<"$line") + $(field link_lost <<<"$line") ))
    if [[ "$name" == udp* ]]; then
      units_n3=$count units_ns=$count
      ok=1
      [ "$(field udp_delivered <<<"$line")" = "$count" ] || ok=0
      [ "$(field udp_latency_matched <<<"$line")" = "$count" ] || ok=0
      [ "$(field udp_latency_min_ns <<<"$line")" = 201504 ] || ok=0
      [ "$(field udp_latency_max_ns <<<"$line")" = 201504 ] || ok=0
      [ "$drops" = 0 ] || ok=0
      [ "$ok" = 1 ] || { echo "CHECK FAILED ($name): $line" >&2; status=1; }
    else
      units_n3=$n3_router units_ns=$ns_router
      dev=$(awk -v a="$ns_router" -v b="$n3_router" 'BEGIN{d=(a-b)/b; if(d<0)d=-d; print (d<=0.03)?1:0}')
      { [ "$dev" = 1 ] && [ "$drops" = 0 ]; } ||
        { echo "CHECK FAILED ($name): router packets $ns_router vs ns-3 $n3_router, drops $drops" >&2; status=1; }
    fi
    [ "$round" -le "$warmup" ] && continue
    echo "$n3_run $units_n3 $n3_events $n3_rss $ns_run $units_ns $ns_events $ns_rss" >>"$work/r.$k"
  done
  echo "round $round/$((warmup + reps)) done" >&2
done

med() { sort -g | awk '{v[NR]=$1} END{ if(NR==0){print "-"; exit}
  m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3g [%.3g-%.3g]", m, v[1], v[NR] }'; }
med1() { sort -g | awk '{v[NR]=$1} END{ m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.4g", m }'; }

echo
echo "netsim vs ns-3, $(date -u +%F), commit $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$reps counted rounds after $warmup warm-up, ns-3 and netsim interleaved; wall = simulation loop only;"
echo "rate = datagrams (UDP) or router packets (TCP) per wall second; ratio = netsim rate / ns-3 rate per round"
printf "%-10s %-7s %-26s %-26s %-9s %-8s %-9s %s\n" case sim "wall s median [min-max]" "rate/s median [min-max]" \
  "ev/unit" "RSS MiB" "units" "ratio (netsim/ns-3)"
for c in "${cases[@]}"; do
  IFS='|' read -r name _ _ _ <<<"$c"
  f="$work/r.$(key "$name")"
  [ -f "$f" ] || continue
  for side in ns-3 netsim; do
    if [ $side = ns-3 ]; then o=0; else o=4; fi
    wall=$(awk -v o=$o '{print $(o+1)}' "$f" | med)
    rate=$(awk -v o=$o '{print $(o+2)/$(o+1)}' "$f" | med)
    epu=$(awk -v o=$o '{print $(o+3)/$(o+2)}' "$f" | med1)
    rss=$(awk -v o=$o '{print $(o+4)/1024}' "$f" | med1)
    units=$(awk -v o=$o '{print $(o+2)}' "$f" | med1)
    ratio="-"
    [ $side = netsim ] && ratio=$(awk '{print ($6/$5)/($2/$1)}' "$f" | med)
    printf "%-10s %-7s %-26s %-26s %-9s %-8s %-9s %s\n" "$name" $side "$wall" "$rate" "$epu" "$rss" "$units" "$ratio"
  done
done
if [ -f "$work/r.udp_H_2" ] && [ -f "$work/r.udp_H_64" ]; then
  a=$(awk '{print $5/$6}' "$work/r.udp_H_2" | med1) b=$(awk '{print $5/$6}' "$work/r.udp_H_64" | med1)
  c=$(awk '{print $1/$2}' "$work/r.udp_H_2" | med1) d=$(awk '{print $1/$2}' "$work/r.udp_H_64" | med1)
  echo "cost per datagram H=64 / H=2: netsim $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b/a}')," \
    "ns-3 $(awk -v a="$c" -v b="$d" 'BEGIN{printf "%.2f", b/a}')"
fi
[ -n "$only" ] && exit $status

echo
echo "== memory per idle TCP connection (bench/idle_conn_bench, ${IDLE_N:-200000} connections, 2 sockets each)"
/usr/bin/time -v -o "$work/time" "$build/bench/idle_conn_bench" --n="${IDLE_N:-200000}" | grep RESULT || status=1
idle="$(grep RESULT <<<"$("$build/bench/idle_conn_bench" --n=1000 2>/dev/null)" || true)"
echo "(1 000 000 idle connections extrapolate to bytes_per_connection x 1e6; target < 1 GiB)"

echo
echo "== ${SUITE_N:-1000} small scenarios under netsim check -j2 (bundled scenarios, varied seeds)"
suite="$work/suite"
mkdir -p "$suite"
/usr/bin/python3 - "$repo/scenarios" "$suite" "${SUITE_N:-1000}" <<'EOF'
import json, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = []
for root, dirs, names in os.walk(src):
    # the scenarios netsim check runs: not schema/, not folders marked .netsim-check-skip (guards/)
    dirs[:] = sorted(d for d in dirs if d != "schema"
                     and not os.path.exists(os.path.join(root, d, ".netsim-check-skip")))
    files += [os.path.join(root, f) for f in sorted(names) if f.endswith(".json")]
docs = []
for f in files:
    try:
        d = json.load(open(f))
    except Exception:
        continue
    if d.get("format") == "netsim-scenario/1":
        docs.append(d)
for i in range(n):
    d = dict(docs[i % len(docs)])
    d["seed"] = 1 + i // len(docs)
    d.pop("fingerprint", None)  # pinned for seed 1 only
    d["name"] = f'{d.get("name", "s")}-{i}'
    json.dump(d, open(os.path.join(dst, f"s{i:04d}.json"), "w"))
print(f"{n} scenarios from {len(docs)} bundled ones")
EOF
start=$(date +%s.%N)
"$netsim" check -j2 "$suite" >"$work/check.out" 2>&1 || true
end=$(date +%s.%N)
tail -1 "$work/check.out"
awk -v a="$start" -v b="$end" 'BEGIN{printf "netsim check -j2: %.2f s wall (target < 5 s)\n", b-a}'

if [ -z "${SKIP_LOOKUP:-}" ]; then
  echo
  echo "== socket lookup (bench/socket_lookup_bench, per_lookup), 10 .. 1 000 000 sockets"
  "$build/bench/socket_lookup_bench" --benchmark_min_time=0.05 --benchmark_filter='keys:1024' 2>/dev/null |
    awk '/^BM_/{ for(i=1;i<=NF;i++) if($i ~ /^per_lookup=/) print $1, $i }'
fi

if [ -z "${SKIP_LOOP:-}" ]; then
  echo
  echo "== event loop (bench/run_event_loop_bench.sh $reps)"
  ANCHORS="$anchors" WARMUP="$warmup" "$repo/bench/run_event_loop_bench.sh" "$reps" 2>/dev/null | tail -n +2 || status=1
fi
exit $status
