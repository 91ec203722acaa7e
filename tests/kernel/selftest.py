#!/usr/bin/env python3
"""Checks the differential test's own parts: the reduction (anywhere) and the kernel runner
(where network namespaces work), so a broken runner cannot pass as "netsim agrees".

The reduction checks feed small hand-written traces through reduce.py. The runner check plays
tests/kernel/dev/tcp-udp-basics.json on the kernel twice and asserts Linux behaviour the runner
must reproduce (each is measured in linux-policy terms in docs/kernel-differential.md): the runs
agree; a UDP wildcard and a specific socket on one port conflict unless both set reuse_addr; a
dual-stack listener's accept shows plain IPv4; TCP connect ports are even and in 32768-60999; a
connect to a closed port is refused; removing a primary IPv4 address removes the secondary of
its prefix; nothing is severed. Exit 0 pass, 1 fail, 77 runner part skipped (no namespaces;
NETSIM_KERNEL_REQUIRED=1 makes that a failure).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kernel_run  # noqa: E402
import netns  # noqa: E402
import reduce  # noqa: E402
from plan import Plan  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)


def tiny_plan(steps):
    return Plan({"format": "netsim-scenario/1", "hosts": {
        "client": {"interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]}}},
        "server": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}}}, "steps": steps})


def netsim_lines(events):
    return [json.dumps(e) for e in events]


def reduction_checks():
    plan = tiny_plan([
        {"at": "0ms", "host": "server", "op": "listen", "proto": "tcp", "socket": "a", "port": 80, "reuse_port": True},
        {"at": "0ms", "host": "server", "op": "listen", "proto": "tcp", "socket": "b", "port": 80, "reuse_port": True},
        {"at": "10ms", "host": "client", "op": "connect", "proto": "tcp", "socket": "c", "remote": "10.0.0.1:80"},
        {"at": "20ms", "host": "client", "op": "send", "socket": "c", "data": "hello"}])
    common = [
        {"event": "step", "t": 0, "step": "/steps/0", "host": "server", "op": "listen", "socket": "a", "port": 80, "result": "ok"},
        {"event": "step", "t": 0, "step": "/steps/1", "host": "server", "op": "listen", "socket": "b", "port": 80, "result": "ok"}]
    sim = reduce.reduce_netsim(plan, netsim_lines(common + [
        {"event": "step", "t": 10000000, "step": "/steps/2", "host": "client", "op": "connect", "socket": "c",
         "local": "10.0.0.2:40001", "result": "ok"},
        {"event": "accept", "t": 10000001, "host": "server", "listener": "a", "socket": "a#1",
         "local": "10.0.0.1:80", "remote": "10.0.0.2:40001"},
        {"event": "receive", "t": 20000001, "host": "server", "socket": "a#1", "data": "hel"},
        {"event": "receive", "t": 20000002, "host": "server", "socket": "a#1", "data": "lo"}]))
    check("accept server {a|b} -> {a|b}#* local=10.0.0.1:80 remote=10.0.0.2:eph(client/c)" in sim.epochs[1],
          "a reuseport group member is named by its group, an ephemeral port by its owner: %s" % dict(sim.epochs[1]))
    check(sim.epochs[2]["receive server {a|b}#* \"hello\""] == 1,
          "TCP bytes of one epoch are compared concatenated: %s" % dict(sim.epochs[2]))
    check(any("40001" in v and "odd" in v for v in sim.violations),
          "an odd TCP connect port breaks an invariant: %s" % sim.violations)
    kernel = reduce.reduce_kernel(plan, [{"event": "header"}] + [dict(e, epoch=0) for e in common] + [
        {"event": "step", "epoch": 1, "host": "client", "op": "connect", "socket": "c", "local": "10.0.0.2:40000", "result": "ok"},
        {"event": "accept", "epoch": 1, "host": "server", "listener": "b", "socket": "b#1",
         "local": "[::ffff:10.0.0.1]:80", "remote": "[::ffff:10.0.0.2]:40000"},
        {"event": "receive", "epoch": 2, "host": "server", "socket": "b#1", "data": b"hello".hex()}])
    check(not kernel.violations, "an even connect port in range is fine: %s" % kernel.violations)
    check(not reduce.differences(plan, sim, kernel),
          "the same outcome with other port values and another group member agrees: %s" %
          reduce.differences(plan, sim, kernel))
    kernel.epochs[2]["receive server {a|b}#* \"hellO\""] += 1
    text = reduce.render(plan, sim, kernel, reduce.differences(plan, sim, kernel))
    check("+ kernel   receive server {a|b}#* \"hellO\"" in text and "epoch 2 (t=20ms)" in text,
          "a difference is printed with its epoch and side:\n" + text)


def runner_checks():
    plan = Plan.load(os.path.join(HERE, "dev", "tcp-udp-basics.json"))
    runs = [reduce.reduce_kernel(plan, kernel_run.play(plan)) for _ in range(2)]
    check(not reduce.differences(plan, *runs), "two kernel runs agree:\n" +
          reduce.render(plan, runs[0], runs[1], reduce.differences(plan, *runs)))
    k = runs[0]
    every = [line for epoch in k.epochs.values() for line in epoch]
    expected = [
        (0, "step server listen dns -> address_in_use", "UDP specific vs wildcard without reuse_addr on both"),
        (1, "accept server web -> web#1 local=10.0.0.1:80 remote=10.0.0.2:eph(client/c)", "dual-stack accept in plain IPv4"),
        (1, "established client c6 local=[fd00::2]:eph(client/c6) remote=[fd00::1]:80", "IPv6 handshake in its epoch"),
        (2, "receive server any \"to the specific\" from=10.0.0.2:5000", "UDP receive with its sender"),
        (2, "receive server web#1 \"hello\"", "TCP receive"),
        (3, "error client refused connection_refused", "refused connect"),
        (4, "address_removed server eth0 10.0.0.11/24", "the secondary goes with the primary"),
        (5, "step server send web#1 -> ok", "no severing: a send from a removed address is queued")]
    for epoch, line, why in expected:
        check(k.epochs[epoch][line] == 1, "%s: expected %r in epoch %d, got %s" % (why, line, epoch, sorted(k.epochs[epoch])))
    check(not any(line.startswith("sever") for line in every), "the kernel never severs")
    check(not k.violations, "kernel ports meet the invariants: %s" % k.violations)
    check(not [n for n in netns.our_namespaces() if n.startswith(netns.PREFIX + str(os.getpid()))],
          "no namespace of this process is left")


def main():
    reduction_checks()
    reason = netns.unavailable_reason()
    skipped = False
    if reason:
        if os.environ.get("NETSIM_KERNEL_REQUIRED") == "1":
            FAILURES.append("the runner check is required (NETSIM_KERNEL_REQUIRED=1) but cannot run: " + reason)
        else:
            skipped = True
    else:
        runner_checks()
    for f in FAILURES:
        print("FAIL: " + f)
    if FAILURES:
        return 1
    if skipped:
        print("SKIP: reduction checks passed; runner checks skipped: " + reason)
        return kernel_run.SKIP
    print("PASS: reduction and kernel runner checks (Linux %s)" % os.uname().release)
    return 0


if __name__ == "__main__":
    sys.exit(main())
