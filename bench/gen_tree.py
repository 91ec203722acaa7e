#!/usr/bin/python3
"""Generates a two-level tree with "routes": "auto", for the route-scaling benchmark
(bench/run_tree_bench.sh, docs/performance.md).

  gen_tree.py HOSTS ROUTERS PINGS [SEED] > tree.json
  gen_tree.py --idle HOSTS > idle.json

Tree: one forwarding `core`; ROUTERS forwarding routers r0.. each on its own point-to-point
link to the core; HOSTS hosts h0.. spread evenly over the routers (host k under router
k % ROUTERS), each with one interface on a point-to-point link to its router. Every link is a
/30 of 10.0.0.0/8 (link L: 10.x.y.(4L+1) on the upper side, +2 on the lower), latency 100 us.
No static routes: every route is automatic. PINGS pings at t = 1 ms + 10 us * i, each from a
random host to a random host under another router (seeded, SEED default 1); the scenario
expects every one answered (rtt 8 x 100 us).
--idle: HOSTS hosts with one interface and one address each, no links, no steps: the
per-host cost of an idle host.
"""
import json
import random
import sys


def addr(link, side):
    n = link * 4 + side
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/30"


def tree(hosts_n, routers_n, pings, seed):
    hosts = {"core": {"forwarding": True, "interfaces": {}}}
    links = []
    for r in range(routers_n):
        link = len(links)
        hosts["core"]["interfaces"][f"d{r}"] = {"addresses": [addr(link, 1)]}
        hosts[f"r{r}"] = {"forwarding": True, "interfaces": {"up": {"addresses": [addr(link, 2)]}}}
        links.append({"between": [f"core.d{r}", f"r{r}.up"]})
    for k in range(hosts_n):
        r = k % routers_n
        link = len(links)
        hosts[f"r{r}"]["interfaces"][f"d{k // routers_n}"] = {"addresses": [addr(link, 1)]}
        hosts[f"h{k}"] = {"interfaces": {"eth0": {"addresses": [addr(link, 2)]}}}
        links.append({"between": [f"r{r}.d{k // routers_n}", f"h{k}.eth0"]})
    rng = random.Random(seed)
    steps = []
    for i in range(pings):
        src = rng.randrange(hosts_n)
        dst = rng.randrange(hosts_n)
        while dst % routers_n == src % routers_n:
            dst = rng.randrange(hosts_n)
        to = hosts[f"h{dst}"]["interfaces"]["eth0"]["addresses"][0].split("/")[0]
        steps.append({"at": f"{1000 + 10 * i}us", "host": f"h{src}", "op": "ping", "to": to})
    expect = [{"event": "ping", "rtt": 800000, "count": pings}] if pings else []
    return {"format": "netsim-scenario/1", "name": f"tree-{hosts_n}-{routers_n}",
            "defaults": {"link": {"latency": "100us"}}, "routes": "auto",
            "hosts": hosts, "links": links, "steps": steps, "expect": expect}


def idle(hosts_n):
    hosts = {f"h{k}": {"interfaces": {"eth0": {"addresses": [addr(k, 2)]}}} for k in range(hosts_n)}
    return {"format": "netsim-scenario/1", "name": f"idle-{hosts_n}", "routes": "auto",
            "hosts": hosts}


if __name__ == "__main__":
    if sys.argv[1] == "--idle":
        print(json.dumps(idle(int(sys.argv[2]))))
    else:
        seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        print(json.dumps(tree(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), seed)))
