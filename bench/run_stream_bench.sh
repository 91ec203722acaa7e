#!/usr/bin/env bash
# The streaming-trace workloads, measured as a user runs them: whole-process wall time and
# peak RSS of `netsim run FILE` (the scenario's expectations on, the trace written where
# asked), next to ns-3's UDP star anchor in the same invocation.
#
#   bench/run_stream_bench.sh [REPS]   (default 3; env: BUILD (default build-bench), SKIP_NS3=1,
#                                       SKIP_REPEAT=1 to leave out the ~1-2 minute repeat guard)
#
# Cases (each REPS times, interleaved; medians [min-max] of wall time, CPU time and peak RSS;
# CPU time is the fairer figure on a shared machine):
#   ns-3 udp star H=16, 20 000 datagrams per client                        (bench/anchors/ns3/udp)
#   netsim the same star with {"event":"deliver","proto":"udp","count":320000} and
#          {"event":"drop","never":true}: plain `run`, and `run --trace FILE`
#   netsim the same star with 10x the datagrams, `--trace FILE`           (RSS must stay flat)
#   netsim 1 000 000 one-byte UDP sends, `run --out DIR` (trace + five exports)
#   netsim bench/scenarios/tcp-100mb.json, `--trace FILE`
#   netsim a `repeat` of 10^9 under the default limits (the events guard trips; exit 1)
# Every netsim run must end with the exit code the case expects, or the bench fails.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
build="${BUILD:-$repo/build-bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DNETSIM_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target netsim >/dev/null
netsim="$build/netsim"

ns3=""
if [ -z "${SKIP_NS3:-}" ]; then
  cp -r "$repo/bench/anchors" "$work/anchors"
  if make -s -C "$work/anchors/ns3" udp >"$work/ns3-build.log" 2>&1; then
    ns3="$work/anchors/ns3/udp"
  else
    echo "ns-3 anchor not built (apt-get install -y libns3-dev); netsim cases only" >&2
  fi
fi

python3 - "$repo" "$work" <<'EOF'
import json, subprocess, sys
repo, work = sys.argv[1], sys.argv[2]
def star(k, name):
    s = json.loads(subprocess.check_output([sys.executable, f"{repo}/bench/gen_star.py", "udp", "16", str(k)]))
    s["expect"] = [{"event": "deliver", "proto": "udp", "count": 16 * k}, {"event": "drop", "never": True}]
    json.dump(s, open(f"{work}/{name}.json", "w"))
star(20000, "star")
star(200000, "star10x")
two = {"client": {"interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]}}},
       "server": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}}}
link = [{"between": ["client.eth0", "server.eth0"], "latency": "100us"}]
sends = {"format": "netsim-scenario/1", "name": "one-million-sends", "hosts": two, "links": link,
         "steps": [{"at": "0ms", "host": "server", "op": "listen", "proto": "udp", "socket": "s", "port": 9},
                   {"at": "0ms", "host": "client", "op": "connect", "proto": "udp", "socket": "c", "remote": "10.0.0.1:9"},
                   {"at": "1ms", "host": "client", "op": "send", "socket": "c", "size": 1,
                    "repeat": {"count": 1000000, "every": "1us"}}],
         "expect": [{"event": "deliver", "socket": "s", "count": 1000000}]}
json.dump(sends, open(f"{work}/sends.json", "w"))
repeat = dict(sends, name="repeat-1e9", expect=[])
repeat["steps"] = sends["steps"][:2] + [dict(sends["steps"][2], repeat={"count": 1000000000, "every": "1us"})]
json.dump(repeat, open(f"{work}/repeat.json", "w"))
EOF

# name | expected exit | command
cases=()
[ -n "$ns3" ] && cases+=("ns-3 udp star H=16 (320 000 datagrams)|0|$ns3 --hosts=16 --packets=20000")
cases+=("netsim same star, run (no trace)|0|$netsim run $work/star.json -q")
cases+=("netsim same star, run --trace FILE|0|$netsim run $work/star.json -q --trace $work/t.jsonl")
cases+=("netsim star x10 datagrams, --trace FILE|0|$netsim run $work/star10x.json -q --trace $work/t.jsonl")
cases+=("netsim 10^6 one-byte sends, --out DIR|0|$netsim run $work/sends.json -q --out $work/out")
cases+=("netsim tcp-100mb, --trace FILE|0|$netsim run $repo/bench/scenarios/tcp-100mb.json -q --trace $work/t.jsonl")
[ -z "${SKIP_REPEAT:-}" ] && cases+=("netsim repeat 10^9, default limits|1|$netsim run $work/repeat.json -q")

declare -A wall rss cpu
for round in $(seq 1 "$reps"); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name want cmd <<<"$c"
    set +e
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" $cmd >"$work/stdout" 2>"$work/stderr"
    got=$?
    set -e
    if [ "$got" != "$want" ]; then
      echo "FAILED ($name): exit $got, expected $want" >&2
      tail -5 "$work/stdout" "$work/stderr" >&2
      exit 1
    fi
    read -r w r u sy < <(tail -n 1 "$work/time")  # GNU time may print "Command exited ..." first
    wall[$name]+="$w "
    rss[$name]+="$r "
    cpu[$name]+="$(echo "$u + $sy" | bc) "
  done
done

summary() {  # median [min-max] of a list of numbers
  tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {printf "%s [%s-%s]", v[int((NR+1)/2)], v[1], v[NR]}'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf "%-44s %-24s %-24s %s\n" "case ($reps rounds)" "wall s" "CPU s (user+sys)" "peak RSS MiB"
for c in "${cases[@]}"; do
  IFS='|' read -r name want cmd <<<"$c"
  mib=$(for k in ${rss[$name]}; do echo "scale=1; $k/1024" | bc; done | tr '\n' ' ')
  printf "%-44s %-24s %-24s %s\n" "$name" "$(echo "${wall[$name]}" | summary)" \
    "$(echo "${cpu[$name]}" | summary)" "$(echo "$mib" | summary)"
done
if [ -n "$ns3" ]; then
  for what in wall cpu; do
    declare -n times="$what"
    n3=$(echo "${times[ns-3 udp star H=16 (320 000 datagrams)]}" | median)
    for name in "netsim same star, run (no trace)" "netsim same star, run --trace FILE"; do
      ns=$(echo "${times[$name]}" | median)
      printf "ratio ns-3 / %s (%s): %s\n" "$name" "$what" "$(echo "scale=2; $n3/$ns" | bc)"
    done
  done
fi
