#!/usr/bin/env python3
"""The differential test: one scenario on netsim (policy linux) and on the real kernel.

Usage: linux_diff.py --netsim build/netsim SCENARIO.json... [--policy linux] [--keep DIR]
                     [--expected-failures FILE] [--runs 2] [--verbose]

For each scenario: `netsim run SCENARIO --set /policy="linux" --trace`, then the scenario played
on the kernel (kernel_run.py) `--runs` times. Every trace is reduced to per-epoch records
(reduce.py). The kernel runs must agree with each other (else the scenario is flaky on the
kernel), and netsim must agree with the kernel; ephemeral ports must meet Linux's invariants on
both sides. Any difference fails and is printed epoch by epoch: the lines both sides saw, then
the lines only one side saw.

A scenario named in the expected-failures file (`tests/kernel/expected-failures.txt`: a path
relative to the repository's scenarios/ folder, then the reason) passes while it differs and
fails once it agrees, so the entry is removed when the bug is fixed.

Exit: 0 all agree; 1 a difference (or a run failed); 77 skipped because this machine cannot
run network namespaces (not Linux, not root, no `ip`), unless NETSIM_KERNEL_REQUIRED=1 is
set, which turns the skip into a failure (CI sets it: the test must run there).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernel_run  # noqa: E402
import netns  # noqa: E402
import reduce  # noqa: E402
from plan import Plan  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "scenarios"))


def load_expected_failures(path):
    """{scenario path relative to scenarios/: reason} from FILE (# comments, blank lines)."""
    entries = {}
    if not path or not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit("%s:%d: an expected failure needs a reason after the path" % (path, n))
            entries[name] = reason.strip()
    return entries


def run_netsim(netsim, scenario, policy, trace):
    p = subprocess.run([netsim, "run", scenario, "--set", '/policy="%s"' % policy, "--trace", trace],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # 1 = a step or an expectation failed: the trace is still complete and is what we compare.
    if p.returncode not in (0, 1) or not os.path.exists(trace):
        raise RuntimeError("netsim run %s exited %d:\n%s%s" % (scenario, p.returncode, p.stdout, p.stderr))
    with open(trace, encoding="utf-8") as f:
        return f.read().splitlines()


def compare_one(args, scenario, keep):
    """Returns (ok, report text)."""
    plan = Plan.load(scenario)
    report = []
    trace = os.path.join(keep, "netsim.jsonl")
    sim = reduce.reduce_netsim(plan, run_netsim(args.netsim, scenario, args.policy, trace))
    kernels = []
    for i in range(args.runs):
        events = kernel_run.play(plan, args.settle, args.cap)
        with open(os.path.join(keep, "kernel-%d.jsonl" % (i + 1)), "w", encoding="utf-8") as f:
            f.writelines(kernel_run.json.dumps(e, sort_keys=True) + "\n" for e in events)
        kernels.append(reduce.reduce_kernel(plan, events))
        if i == 0:
            report.append("kernel: Linux %s" % events[0]["kernel"])
    ok = True
    for i, other in enumerate(kernels[1:], 2):
        diffs = reduce.differences(plan, kernels[0], other)
        if diffs:
            ok = False
            other.name = "kernel#%d" % i
            report.append("FLAKY on the kernel: run 1 and run %d differ" % i)
            report.append(reduce.render(plan, kernels[0], other, diffs))
    for side in [sim] + kernels[:1]:
        if side.violations:
            ok = False
            report.append("ephemeral port invariants broken:")
            report.extend("  " + v for v in side.violations)
    diffs = reduce.differences(plan, sim, kernels[0])
    if diffs:
        ok = False
        report.append("netsim (policy %s) and the kernel differ in %d of %d epochs:" % (
            args.policy, len(diffs), len(plan.epoch_times)))
        report.append(reduce.render(plan, sim, kernels[0], diffs))
        if sim.crossings:
            report.append("note: in netsim these packets were in flight when the next step ran, "
                          "so the scenario is not quiescent there (the kernel has no link latency):")
            report.extend("  " + c for c in sim.crossings)
    if args.verbose or not ok:
        report.append("all records, netsim:\n" + reduce.render_all(plan, sim))
        report.append("all records, kernel:\n" + reduce.render_all(plan, kernels[0]))
    return ok, "\n".join(report)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--netsim", required=True, help="the netsim binary")
    ap.add_argument("--policy", default="linux", help="netsim's policy (default linux)")
    ap.add_argument("--runs", type=int, default=2, help="kernel runs per scenario (default 2)")
    ap.add_argument("--settle", type=float, default=0.15)
    ap.add_argument("--cap", type=float, default=3.0)
    ap.add_argument("--keep", help="write the traces under DIR/<scenario>/ (default: a temporary folder)")
    ap.add_argument("--expected-failures", default=os.path.join(HERE, "expected-failures.txt"))
    ap.add_argument("--verbose", action="store_true", help="print every record, also when all agree")
    args = ap.parse_args()

    reason = netns.unavailable_reason()
    if reason:
        if os.environ.get("NETSIM_KERNEL_REQUIRED") == "1":
            print("FAIL: the kernel differential test is required here (NETSIM_KERNEL_REQUIRED=1) "
                  "but cannot run: " + reason)
            return 1
        print("SKIP: " + reason)
        return kernel_run.SKIP
    expected = load_expected_failures(args.expected_failures)
    failed = 0
    for scenario in args.scenarios:
        rel = os.path.relpath(os.path.abspath(scenario), SCENARIOS_ROOT)
        if rel.startswith(".."):
            rel = scenario
        name = os.path.splitext(rel)[0].replace(os.sep, "-")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="netsim-kernel-") as tmp:
            keep = os.path.join(args.keep, name) if args.keep else tmp
            os.makedirs(keep, exist_ok=True)
            try:
                ok, report = compare_one(args, scenario, keep)
            except kernel_run.Unplayable as e:
                ok, report = False, "cannot be played on the kernel: %s" % e
            except (RuntimeError, OSError) as e:
                ok, report = False, "run failed: %s" % e
        reason = expected.get(rel)
        rel_timed = "%s (%.1f s)" % (rel, time.monotonic() - started)
        if reason and ok:
            print("FAIL %s: listed as an expected failure (%s) but netsim and the kernel agree now; "
                  "remove it from %s" % (rel, reason, args.expected_failures))
            failed += 1
        elif reason:
            print("XFAIL %s: %s\n%s" % (rel_timed, reason, report))
        elif ok:
            print("PASS %s\n%s" % (rel_timed, report))
        else:
            print("FAIL %s\n%s" % (rel_timed, report))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
