#!/usr/bin/env python3
"""Chrome JSON as ui.perfetto.dev's importer expects it (Perfetto's json_trace_parser: complete
events need `dur`, flow v2 binds `bind_id` to slices, a thread is named by its tid alone, pid 0 is
advised against), checked on the export of every bundled scenario and both sample traces:
- a JSON object with `traceEvents`; no `displayTimeUnit`;
- every event has a phase, a pid and a tid, both > 0; a tid belongs to one pid;
- every process and every thread used has its name (metadata `process_name`, `thread_name`);
- complete events (X) have a numeric `dur` >= 0 and slices on one thread nest (never overlap
  partly); B/E pair up per thread; async b/e pair up per (pid, cat, id) with e not before b;
- every flow `bind_id` has exactly one slice with `flow_out` and one later with `flow_in`;
- and what the issue asked for: each packet hop is an async slice from send to arrival on its
  link's track; each socket lifetime a slice on the socket's track ending at its close; each ping
  reply and each delivery ends a flow arrow.
usage: check_perfetto.py NETSIM SOURCE_DIR WORK_DIR"""
import collections
import json
import os
import sys

from tool_test import ToolTest


def us(ns):
    return ns / 1000.0


def check_file(t, name, doc, events):
    where = f"{name}:"
    if not t.check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), f"{where} no traceEvents list"):
        return
    t.check("displayTimeUnit" not in doc, f"{where} relies on displayTimeUnit")
    evs = doc["traceEvents"]
    process_names, thread_names, tid_pid = set(), set(), {}
    used_pids, used_threads = set(), set()
    for e in evs:
        ph, pid, tid = e.get("ph"), e.get("pid"), e.get("tid")
        if not t.check(isinstance(ph, str) and isinstance(pid, int) and isinstance(tid, int)
                       and pid > 0 and tid > 0, f"{where} event without a positive pid/tid: {e}"):
            continue
        t.check(tid_pid.setdefault(tid, pid) == pid, f"{where} tid {tid} used in pids {tid_pid[tid]} and {pid}")
        if ph == "M":
            if e["name"] == "process_name":
                process_names.add(pid)
            if e["name"] == "thread_name":
                thread_names.add((pid, tid))
            continue
        t.check(isinstance(e.get("ts"), (int, float)), f"{where} event without a numeric ts: {e}")
        used_pids.add(pid)
        if ph in ("X", "B", "E") or (ph == "i" and e.get("s", "t") == "t"):
            used_threads.add((pid, tid))
    t.check(used_pids <= process_names, f"{where} processes without a name: {sorted(used_pids - process_names)}")
    t.check(used_threads <= thread_names, f"{where} threads without a name: {sorted(used_threads - thread_names)}")

    # Complete events: dur, and nesting per thread.
    by_thread = collections.defaultdict(list)
    for e in evs:
        if e.get("ph") == "X":
            if t.check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, f"{where} X without dur >= 0: {e}"):
                by_thread[(e["pid"], e["tid"])].append((e["ts"], -e["dur"], e))
    eps = 1e-6
    for key, slices in by_thread.items():
        stack = []
        for ts, neg_dur, e in sorted(slices, key=lambda x: (x[0], x[1])):
            end = ts - neg_dur
            while stack and stack[-1] <= ts + eps:
                stack.pop()
            if stack:
                t.check(end <= stack[-1] + eps, f"{where} slice {e['name']!r} at {ts} overlaps its parent partly on {key}")
            stack.append(end)
    # B/E per thread, async b/e per id.
    be = collections.defaultdict(list)
    for e in sorted((e for e in evs if e.get("ph") in ("B", "E")), key=lambda e: e["ts"]):
        s = be[(e["pid"], e["tid"])]
        if e["ph"] == "B":
            s.append(e)
        else:
            t.check(bool(s), f"{where} E without B: {e}")
            if s:
                s.pop()
    t.check(all(not s for s in be.values()), f"{where} B without E")
    open_async = {}
    for e in evs:
        if e.get("ph") not in ("b", "e"):
            continue
        key = (e["pid"], e.get("cat"), json.dumps(e.get("id2", e.get("id")), sort_keys=True))
        if e["ph"] == "b":
            t.check(key not in open_async, f"{where} async id reused while open: {key}")
            open_async[key] = e
        else:
            b = open_async.pop(key, None)
            t.check(b is not None and b["ts"] <= e["ts"] and b.get("name") == e.get("name"),
                    f"{where} async e without its b: {e}")
    t.check(not open_async, f"{where} async b without e: {list(open_async)[:3]}")
    # Flow v2: one out, one in, in time order, on complete events.
    flows = collections.defaultdict(lambda: {"out": [], "in": []})
    for e in evs:
        if "bind_id" in e:
            t.check(e.get("ph") == "X", f"{where} bind_id on a {e.get('ph')} event")
            if e.get("flow_out"):
                flows[e["bind_id"]]["out"].append(e["ts"])
            if e.get("flow_in"):
                flows[e["bind_id"]]["in"].append(e["ts"])
        t.check(e.get("ph") not in ("s", "t", "f"), f"{where} v1 flow event {e.get('ph')}")
    for fid, f in flows.items():
        t.check(len(f["out"]) == 1 and len(f["in"]) == 1 and f["out"][0] <= f["in"][0],
                f"{where} flow {fid} is not bound once at each end in order: {f}")

    # What the trace says must be there.
    if events is None:
        return
    hops = sum(1 for e in evs if e.get("ph") == "b" and e.get("cat") == "link")
    rx = sum(1 for e in events if e.get("event") == "rx")
    t.check(hops == rx, f"{where} {hops} packets in flight on links, {rx} arrivals in the trace")
    for e in evs:
        if e.get("ph") == "b":
            t.check(e["pid"] == 1 and " > " in e["name"], f"{where} a hop not on a link track: {e}")
    lifetimes = {(e["args"].get("host"), e["tid"], round(e["ts"] + e["dur"], 3))
                 for e in evs if e.get("ph") == "X" and e.get("cat") == "socket"}
    closes = [e for e in events if e.get("event") == "close"]
    ends = {round(l[2], 3) for l in lifetimes}
    for c in closes:
        t.check(round(us(c["t"]), 3) in ends, f"{where} socket {c['host']}/{c['socket']} closed at {c['t']} ns ends no lifetime slice")
    ended = {f["in"][0] for f in flows.values() if f["in"]}
    for e in events:
        if e.get("event") in ("ping", "deliver"):
            t.check(us(e["t"]) in ended, f"{where} the {e['event']} at {e['t']} ns (packet {e['packet']['id']}) ends no flow")


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("chrome/perfetto", netsim, source, work)
    checked = 0
    for name, path in t.bundled():
        out = t.netsim_run(path, os.path.join(work, name))
        with open(os.path.join(out, "trace.chrome.json")) as f:
            doc = json.load(f)
        check_file(t, name, doc, t.trace(os.path.join(out, "trace.jsonl")))
        checked += 1
    for sample in ("udp-wildcard-uncovered", "tcp-handshake-through-router"):
        trace = t.scenario(f"tests/data/traces/{sample}.jsonl")
        out = os.path.join(work, sample + ".json")
        t.run([netsim, "export", trace, "-o", out])
        with open(out) as f:
            check_file(t, sample, json.load(f), t.trace(trace))
        checked += 1
    print(f"checked {checked} Chrome JSON files")
    t.finish()


if __name__ == "__main__":
    main()
