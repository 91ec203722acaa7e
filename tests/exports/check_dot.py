#!/usr/bin/env python3
"""topology.dot as Graphviz renders it, for every bundled scenario:
- `dot -Tsvg` renders it with nothing on stderr (no warning, no error);
- every host's table lists each of its addresses once (the starting configuration and the
  header's topology are one list; a step's change is a separate "+ADDR at T" / "-ADDR at T" row);
- every host that sent packets has a "routes used" row naming, for each destination it sent to,
  the interface the packet left by and the host behind it; ping-across-routers shows r1 sending
  10.0.2.0/24 to r2 and never to r3 (the route the scenario asserts).
usage: check_dot.py NETSIM SOURCE_DIR WORK_DIR"""
import html
import os
import re
import sys

from tool_test import ToolTest


def host_labels(dot):
    """{host: [cell text lines]} from the HTML-like labels."""
    labels = {}
    for m in re.finditer(r'^  "((?:[^"\\]|\\.)*)" \[label=<(.*)>\];$', dot, re.M):
        rows = re.findall(r"<TD[^>]*>(.*?)</TD>", m.group(2))
        labels[m.group(1)] = [[html.unescape(re.sub(r"<[^>]+>", "", part)) for part in row.split("<BR/>")]
                              for row in rows]
    return labels


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("dot/graphviz", netsim, source, work)
    t.need("dot", "apt-get install -y graphviz")
    for name, path in t.bundled():
        out = t.netsim_run(path, os.path.join(work, name))
        dot_file = os.path.join(out, "topology.dot")
        r = t.run(["dot", "-Tsvg", dot_file, "-o", os.path.join(out, "topology.svg")])
        t.check(r.stderr == "", f"{name}: dot says {r.stderr.strip()}")
        with open(dot_file) as f:
            labels = host_labels(f.read())
        events = t.trace(os.path.join(out, "trace.jsonl"))
        topology = events[0]["topology"]
        for host, h in topology["hosts"].items():
            rows = labels.get(host)
            if not t.check(rows is not None, f"{name}: no node for host {host}"):
                continue
            for iface, i in h["interfaces"].items():
                cells = [row for row in rows if row[0].startswith(iface)]
                if not t.check(len(cells) == 1, f"{name}: {host} has {len(cells)} rows for {iface}"):
                    continue
                listed = [line for line in cells[0][1:] if not re.match(r"[+-]\S+ at ", line)]
                for a in i["addresses"]:
                    t.check(listed.count(a) == 1, f"{name}: {host} {iface} lists {a} {listed.count(a)} times: {cells[0]}")
                t.check(len(listed) == len(set(listed)), f"{name}: {host} {iface} lists an address twice: {listed}")
        # Routes used: every (host, interface) a packet left by is in that host's routes row.
        sent = {(e["host"], e["interface"]) for e in events if e.get("event") == "tx"}
        for host, iface in sorted(sent):
            routes = [row for row in labels.get(host, []) if row and row[0] == "routes used"]
            t.check(len(routes) == 1 and any(f" \u2192 {iface}" in line for line in routes[0][1:]),
                    f"{name}: {host} sent by {iface} but its routes used say {routes}")
        if name == "ip-ping-across-routers":
            r1 = next((row for row in labels["r1"] if row[0] == "routes used"), [])
            t.check("10.0.2.0/24 \u2192 eth1 (r2)" in r1, f"{name}: r1's routes used: {r1}")
            t.check(not any("r3" in line for line in r1), f"{name}: r1 routes through r3: {r1}")
    t.finish()


if __name__ == "__main__":
    main()
