"""Shared helpers of the export tests that open netsim's outputs in the real tools (tshark,
Graphviz, Mermaid CLI, xmllint): run a command, skip (exit 77, ctest's SKIP_RETURN_CODE) when a
tool is missing, collect failures and report them all at the end."""
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


class ToolTest:
    def __init__(self, name, netsim, source, work):
        self.name = name
        self.netsim = netsim
        self.source = source
        self.work = work
        self.failures = []
        os.makedirs(work, exist_ok=True)

    def need(self, tool, install):
        """Exits 77 (skipped) when `tool` is not on PATH."""
        if shutil.which(tool) is None and not os.path.exists(tool):
            print(f"{self.name}: skipped: {tool} not installed ({install}; .ci/setup installs it)")
            sys.exit(SKIP)

    def run(self, args, ok=(0,), **kw):
        r = subprocess.run(args, capture_output=True, text=True, **kw)
        if r.returncode not in ok:
            raise SystemExit(f"{self.name}: {' '.join(args)} exited {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def netsim_run(self, scenario, out, *extra, ok=(0,)):
        """`netsim run SCENARIO --out OUT`: the trace and every export in OUT."""
        self.run([self.netsim, "run", scenario, "-q", "--out", out, *extra], ok=ok)
        return out

    def scenario(self, rel):
        return os.path.join(self.source, rel)

    def bundled(self):
        """Every bundled scenario that `netsim check scenarios/` runs, as (name, path)."""
        root = os.path.join(self.source, "scenarios")
        found = []
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x != "schema"
                             and not os.path.exists(os.path.join(d, x, ".netsim-check-skip")))
            for f in sorted(files):
                if f.endswith(".json"):
                    rel = os.path.relpath(os.path.join(d, f), root)
                    found.append((rel[:-5].replace("/", "-"), os.path.join(d, f)))
        return found

    def trace(self, path):
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def check(self, cond, what):
        if not cond:
            self.failures.append(what)
        return cond

    def finish(self):
        for f in self.failures:
            print(f"FAIL {f}")
        if self.failures:
            sys.exit(1)
        print(f"{self.name}: all checks passed")
