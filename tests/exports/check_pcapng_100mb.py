#!/usr/bin/env python3
"""Issue 16's bulk transfer as Wireshark reads it (tshark 4.0): bench/scenarios/tcp-100mb-20ms.json,
100 MB over 1 Gbps with a 20 ms RTT under policy linux (3 MiB receive buffers), exported to pcapng
(one frame per packet, at the sender):
- both SYNs offer window scale 6, and tshark applies it: every other frame's window is scaled by
  64 (`tcp.window_size_scalefactor`; -1 would mean tshark missed the handshake, -2 no scaling);
- no frame has a warning or an error, in particular no "window full" and no zero window: the
  sender never has more bytes in flight than the receiver's scaled window allows.
One tshark pass prints only the SYNs and the frames that break a rule; capinfos counts the frames
(so the check is never vacuous). The trace and pcapng (~215 MB) are deleted afterwards.
usage: check_pcapng_100mb.py NETSIM SOURCE_DIR WORK_DIR"""
import os
import sys

from tool_test import ToolTest

WARN = 0x600000
SHIFT = 6  # 3 MiB >> 6 fits 16 bits (RFC 7323 2.3)
# The data segments of 100 MB at 1448 bytes each (MSS 1460 less timestamps), rounded up.
DATA_FRAMES = -(-100_000_000 // 1448)


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("pcapng-100mb/tshark", netsim, source, work)
    t.need("tshark", "apt-get install -y tshark")
    t.need("capinfos", "apt-get install -y tshark")
    trace = os.path.join(work, "trace.jsonl")
    pcap = os.path.join(work, "trace.pcapng")
    try:
        t.run([netsim, "run", t.scenario("bench/scenarios/tcp-100mb-20ms.json"), "-q", "--trace", trace])
        t.run([netsim, "export", trace, "-o", pcap])
        os.remove(trace)
        frames = int(t.run(["capinfos", "-c", "-M", pcap]).stdout.split()[-1])
        rows = [line.split("\t") for line in t.run(
            ["tshark", "-n", "-r", pcap, "-Y",
             f"tcp.flags.syn == 1 || tcp.window_size_scalefactor != {1 << SHIFT} || tcp.analysis.window_full"
             f" || tcp.analysis.zero_window || _ws.expert.severity >= {WARN}",
             "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "tcp.flags.syn",
             "-e", "tcp.options.wscale.shift", "-e", "tcp.window_size_scalefactor",
             "-e", "_ws.expert.message"]).stdout.splitlines()]
    finally:
        for f in (trace, pcap):
            if os.path.exists(f):
                os.remove(f)
    syns = [r for r in rows if r[1] == "1"]
    others = [r for r in rows if r[1] != "1"]
    print(f"100 MB transfer: {frames} frames; SYNs {[(r[0], r[2]) for r in syns]}; "
          f"{len(others)} frames with a warning or another scale factor")
    t.check(frames > DATA_FRAMES, f"{frames} frames, fewer than the {DATA_FRAMES} data segments")
    t.check(len(syns) == 2 and all(r[2] == str(SHIFT) for r in syns),
            f"want the SYN and SYN-ACK offering window scale {SHIFT}, got {syns}")
    for r in others[:10]:
        t.check(False, f"frame {r[0]}: scale factor {r[3] or 'none'}, expert: {r[4] if len(r) > 4 else ''}")
    t.check(not others, f"{len(others)} frames break a rule (the first 10 above)")
    t.finish()


if __name__ == "__main__":
    main()
