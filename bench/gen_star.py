#!/usr/bin/python3
"""Generates the netsim scenarios equivalent to the ns-3 anchor workloads
(bench/anchors/ns3/{udp,tcp}.cc; see docs/performance.md).

  gen_star.py udp HOSTS PACKETS_PER_CLIENT > udp.json
  gen_star.py tcp FLOWS BYTES_PER_FLOW      > tcp.json

Both: a star of N hosts, each on its own point-to-point link (1 Gbps, 100 us,
100-frame drop-tail queue) to one forwarding router; host i is 10.<i/256>.<i%256>.2/24,
the router's side of its link .1; every host has a default route via the router.
UDP: client i sends PACKETS 64-byte datagrams to host (i+1) mod H over a connected
socket, one every 10 us, all in lock-step from t = 1 ms; every host listens on port 9.
TCP: host i sends BYTES to host FLOWS+i (connect and send at t = 1 ms, close at 2 ms, after the handshake);
MTU 1488 so MSS = 1448; initial cwnd 10, 128 KiB buffers, delayed ACK (ns-3 3.37 defaults).
No expectations: the bench checks the counters of `netsim run --stats`.
"""
import json
import sys


def star(n, mtu=None):
    hosts, links = {}, []
    router = {"forwarding": True, "interfaces": {}}
    for i in range(n):
        net = f"10.{i // 256}.{i % 256}"
        ifc = {"addresses": [f"{net}.2/24"]}
        rif = {"addresses": [f"{net}.1/24"]}
        if mtu:
            ifc["mtu"] = mtu
            rif["mtu"] = mtu
        hosts[f"h{i}"] = {
            "interfaces": {"eth0": ifc},
            "routes": [{"to": "0.0.0.0/0", "via": f"{net}.1"}],
        }
        router["interfaces"][f"e{i}"] = rif
        links.append({"between": [f"h{i}.eth0", f"router.e{i}"]})
    hosts["router"] = router
    return hosts, links


def addr(i):
    return f"10.{i // 256}.{i % 256}.2"


def udp(h, k):
    hosts, links = star(h)
    steps = []
    for i in range(h):
        steps.append({"at": 0, "host": f"h{i}", "op": "listen", "proto": "udp", "socket": "srv", "port": 9})
    for i in range(h):
        steps.append({"at": 0, "host": f"h{i}", "op": "connect", "proto": "udp", "socket": "cli",
                      "remote": f"{addr((i + 1) % h)}:9"})
    for i in range(h):
        steps.append({"at": "1ms", "host": f"h{i}", "op": "send", "socket": "cli", "size": 64,
                      "repeat": {"count": k, "every": "10us"}})
    return {
        "format": "netsim-scenario/1",
        "name": f"bench-udp-star-h{h}-k{k}",
        "description": "ns-3 anchor udp star (bench/gen_star.py)",
        "defaults": {"link": {"latency": "100us", "bandwidth": "1Gbps", "queue": 100}},
        "hosts": hosts,
        "links": links,
        "steps": steps,
        "expect": [],
    }


def tcp(c, nbytes):
    hosts, links = star(2 * c, mtu=1488)
    steps = []
    for i in range(c):
        steps.append({"at": 0, "host": f"h{c + i}", "op": "listen", "proto": "tcp", "socket": "sink", "port": 9})
    for i in range(c):
        src = f"h{i}"
        steps.append({"at": "1ms", "host": src, "op": "connect", "proto": "tcp", "socket": "src",
                      "remote": f"{addr(c + i)}:9"})
        steps.append({"at": "1ms", "host": src, "op": "send", "socket": "src", "size": nbytes})
        steps.append({"at": "2ms", "host": src, "op": "close", "socket": "src"})  # after the handshake
    return {
        "format": "netsim-scenario/1",
        "name": f"bench-tcp-star-c{c}-b{nbytes}",
        "description": "ns-3 anchor tcp star (bench/gen_star.py)",
        "defaults": {
            "link": {"latency": "100us", "bandwidth": "1Gbps", "queue": 100, "mtu": 1488},
            "tcp": {"initial_cwnd_segments": 10, "receive_buffer": 131072, "send_buffer": 131072,
                    "delayed_ack": True},
        },
        "hosts": hosts,
        "links": links,
        "steps": steps,
        "expect": [],
    }


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("udp", "tcp"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    kind, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    doc = udp(a, b) if kind == "udp" else tcp(a, b)
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
