#!/usr/bin/env python3
"""pcapng as Wireshark reads it (tshark 4.0, no decode-as, no preference but checksum checks):
- a lossless TCP transfer over one link: `tshark -q -z expert` shows no error and no warning;
- a lossy one (scenarios/tcp/lossy-transfer-1pct.json): the frames tshark marks as retransmitted
  (retransmission, fast or spurious retransmission, or out-of-order, its name for a retransmission
  sent soon after newer data) are exactly the trace's retransmitted segments, and no other frame
  has a warning or an error;
- through a router each link is captured once: the capture of one link (filtered by interface,
  docs/exports.md) again has no warning;
- --capture tx (default), rx and both write the tx, the rx or both events, flagged outbound or
  inbound in epb_flags;
- every bundled scenario: no malformed packet, every checksum right, and every UDP payload
  dissected as what it is (text: `data` or `echo`), never as a protocol it is not.
usage: check_pcapng.py NETSIM SOURCE_DIR WORK_DIR"""
import os
import re
import sys

from tool_test import ToolTest

WARN, ERROR = 0x600000, 0x800000
RETRANSMITTED = ("tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                 "tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order")
CHECKSUMS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
             "-o", "udp.check_checksum:TRUE"]


def expert_counts(t, pcap):
    """The headline counts of `tshark -q -z expert`: {"Errors": n, "Warns": n, ...}."""
    out = t.run(["tshark", "-n", "-r", pcap, "-q", "-z", "expert"]).stdout
    return {k: int(v) for k, v in re.findall(r"^(Errors|Warns|Notes|Chats|Comments) \((\d+)\)", out, re.M)}


def fields(t, pcap, names, display_filter=None, extra=()):
    args = ["tshark", "-n", "-r", pcap, *extra, "-T", "fields", "-E", "separator=/t",
            "-E", "occurrence=a"]
    if display_filter:
        args += ["-Y", display_filter]
    for n in names:
        args += ["-e", n]
    return [line.split("\t") for line in t.run(args).stdout.splitlines()]


def retransmitted_tx(events):
    """Indexes (among the tx events, 1-based like tshark's frame numbers) of the TCP segments
    that carry sequence space sent before by the same end: the trace's retransmissions."""
    frames, isn, sent_to = set(), {}, {}
    n = 0
    for e in events:
        if e.get("event") != "tx":
            continue
        n += 1
        p = e["packet"]
        if p["proto"] != "tcp":
            continue
        key = (p["src"], p["dst"])
        if "S" in p["flags"] and key not in isn:
            isn[key] = p["seq"]
        if key not in isn:
            continue
        start = (p["seq"] - isn[key]) % 2**32
        end = start + p["len"] + ("S" in p["flags"]) + ("F" in p["flags"])
        if end == start:
            continue  # a pure ACK carries no sequence space
        if start < sent_to.get(key, 0):
            frames.add(n)
        sent_to[key] = max(sent_to.get(key, 0), end)
    return frames


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("pcapng/tshark", netsim, source, work)
    t.need("tshark", "apt-get install -y tshark")

    # A lossless transfer over one link: no warning, no error.
    out = t.netsim_run(t.scenario("tests/data/exports/lossless-transfer.json"), os.path.join(work, "lossless"))
    pcap = os.path.join(out, "trace.pcapng")
    counts = expert_counts(t, pcap)
    print("lossless transfer, tshark -z expert:", counts)
    t.check(counts.get("Errors", 0) == 0 and counts.get("Warns", 0) == 0,
            f"lossless transfer has expert errors or warnings: {counts}")
    t.check(not fields(t, pcap, ["frame.number"], RETRANSMITTED), "lossless transfer shows retransmissions")
    # The same trace with every tx and rx: Wireshark takes the copies for retransmissions.
    both = os.path.join(work, "lossless-both.pcapng")
    t.run([netsim, "export", os.path.join(out, "trace.jsonl"), "--capture", "both", "-o", both])
    both_counts = expert_counts(t, both)
    print("lossless transfer with --capture both:", both_counts)
    t.check(both_counts.get("Warns", 0) > 0, "--capture both should show the duplicates this test guards against")

    # A lossy transfer: exactly its real retransmissions are marked.
    out = t.netsim_run(t.scenario("scenarios/tcp/lossy-transfer-1pct.json"), os.path.join(work, "lossy"))
    pcap = os.path.join(out, "trace.pcapng")
    events = t.trace(os.path.join(out, "trace.jsonl"))
    real = retransmitted_tx(events)
    marked = {int(f[0]) for f in fields(t, pcap, ["frame.number"], RETRANSMITTED)}
    counts = expert_counts(t, pcap)
    print(f"lossy transfer: {len(real)} retransmitted segments in the trace, {len(marked)} frames "
          f"marked by tshark; tshark -z expert: {counts}")
    t.check(len(real) > 0, "the lossy transfer retransmits")
    t.check(marked == real, f"tshark marks frames {sorted(marked - real)} that are not retransmissions "
                            f"and misses {sorted(real - marked)}")
    severe = {int(f[0]) for f in fields(t, pcap, ["frame.number"], f"_ws.expert.severity >= {WARN}")}
    t.check(counts.get("Errors", 0) == 0, f"lossy transfer has expert errors: {counts}")
    t.check(severe <= real, f"frames {sorted(severe - real)} have warnings and are not retransmissions")

    # Through a router: one link's capture reads clean.
    out = t.netsim_run(t.scenario("tests/data/exports/lossless-through-router.json"), os.path.join(work, "router"))
    first_link = os.path.join(work, "router-first-link.pcapng")
    t.run(["tshark", "-r", os.path.join(out, "trace.pcapng"), "-Y",
           'frame.interface_name == "client/eth0" || frame.interface_name == "r/eth0"', "-w", first_link])
    counts = expert_counts(t, first_link)
    print("through a router, the first link alone:", counts)
    t.check(counts.get("Errors", 0) == 0 and counts.get("Warns", 0) == 0,
            f"one link of the routed transfer has expert errors or warnings: {counts}")

    # --capture: which events become frames, and their direction flag.
    trace = os.path.join(out, "trace.jsonl")
    events = t.trace(trace)
    for mode, kinds in (("tx", {"tx"}), ("rx", {"rx"}), ("both", {"tx", "rx"})):
        pcap = os.path.join(work, f"router-{mode}.pcapng")
        t.run([netsim, "export", trace, "--capture", mode, "-o", pcap])
        want = [(f"{e['host']}/{e['interface']}", "0x00000002" if e["event"] == "tx" else "0x00000001")
                for e in events if e.get("event") in kinds]
        got = [(f[0], f[1]) for f in fields(t, pcap, ["frame.interface_name", "frame.packet_flags_direction"])]
        t.check(got == want, f"--capture {mode}: {len(got)} frames, want one per {'/'.join(sorted(kinds))} "
                             f"event ({len(want)}), in order, with its direction")

    # Every bundled scenario decodes as what it carries.
    for name, path in t.bundled():
        out = t.netsim_run(path, os.path.join(work, "bundled", name))
        pcap = os.path.join(out, "trace.pcapng")
        rows = fields(t, pcap, ["frame.number", "_ws.malformed", "frame.protocols", "udp.length",
                                "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                                "icmp.checksum.status", "icmpv6.checksum.status"], extra=CHECKSUMS)
        for f in rows:
            frame, malformed, protocols, udp_len = f[0], f[1], f[2], f[3]
            t.check(malformed == "", f"{name} frame {frame}: malformed ({protocols})")
            # 1 good, 2 unverified (the packet quoted in an ICMP error), 0 bad.
            for status in ",".join(f[4:]).split(","):
                t.check(status in ("", "1", "2"), f"{name} frame {frame}: a checksum is wrong ({f[4:]})")
            layers = protocols.split(":")
            if "udp" in layers and not ("icmp" in layers or "icmpv6" in layers) and udp_len and int(udp_len.split(",")[0]) > 8:
                t.check(layers[-1] in ("data", "echo"),
                        f"{name} frame {frame}: text payload dissected as {layers[-1]} ({protocols})")
        t.check(rows, f"{name}: no frames read")
    t.finish()


if __name__ == "__main__":
    main()
