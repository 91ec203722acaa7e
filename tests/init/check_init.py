#!/usr/bin/env python3
"""`netsim init DIR` (docs/install.md, "netsim init"):
- it writes DIR/scenarios/first.json and DIR/ci/netsim-check.sh (executable), exit 0;
- `netsim check` passes on what it wrote (1 scenario, 2 expectations held), and so does the CI
  snippet itself run with this netsim first on PATH (it writes junit.xml);
- the scenario's `$schema` is an absolute path ending in share/netsim/scenario.schema.json;
- run again, or into a directory where one of its files exists, it writes nothing, says which
  file exists and exits 2, leaving the existing files byte for byte; DIR being a regular file is
  exit 2 too.
usage: check_init.py NETSIM WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def snapshot(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = f.read()
    return files


def main():
    netsim, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    proj = os.path.join(work, "proj")
    r = run([netsim, "init", proj])
    check(r.returncode == 0, f"netsim init exited {r.returncode}: {r.stderr}")
    scenario = os.path.join(proj, "scenarios", "first.json")
    ci = os.path.join(proj, "ci", "netsim-check.sh")
    wanted = [os.path.relpath(p, proj) for p in (ci, scenario)]
    check(sorted(snapshot(proj)) == wanted, f"wrote {sorted(snapshot(proj))}")
    check(os.access(ci, os.X_OK), "ci/netsim-check.sh is not executable")
    with open(scenario) as f:
        doc = json.load(f)
    schema = doc.get("$schema", "")
    check(os.path.isabs(schema) and schema.endswith("share/netsim/scenario.schema.json"), f"$schema is {schema}")
    check(len(doc.get("expect", [])) >= 2, "the scenario has fewer than two expectations")

    r = run([netsim, "check", os.path.join(proj, "scenarios")])
    check(r.returncode == 0 and "1 scenarios: 1 passed" in r.stdout, f"netsim check: {r.returncode} {r.stdout}")
    r = run([netsim, "run", scenario])
    check("expectations 2 passed, 0 failed" in r.stdout, f"netsim run: {r.stdout}")
    # The CI snippet as a CI job runs it: from the project's top, `netsim` on PATH.
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    os.symlink(netsim, os.path.join(bindir, "netsim"))
    r = run(["sh", "ci/netsim-check.sh"], cwd=proj, env=dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"]))
    check(r.returncode == 0 and os.path.exists(os.path.join(proj, "junit.xml")), f"the CI snippet: {r.returncode} {r.stdout} {r.stderr}")
    os.remove(os.path.join(proj, "junit.xml"))

    # Never overwrites: everything exists, or one file exists.
    before = snapshot(proj)
    r = run([netsim, "init", proj])
    check(r.returncode == 2 and "exists; nothing written" in r.stderr and "first.json" in r.stderr,
          f"init over a project: {r.returncode} {r.stderr}")
    check(snapshot(proj) == before, "init over a project changed it")
    partial = os.path.join(work, "partial")
    os.makedirs(os.path.join(partial, "ci"))
    with open(os.path.join(partial, "ci", "netsim-check.sh"), "w") as f:
        f.write("mine\n")
    r = run([netsim, "init", partial])
    check(r.returncode == 2 and "netsim-check.sh exists" in r.stderr, f"init over one file: {r.returncode} {r.stderr}")
    check(snapshot(partial) == {"ci/netsim-check.sh": b"mine\n"}, f"init over one file wrote {sorted(snapshot(partial))}")
    not_dir = os.path.join(work, "file")
    with open(not_dir, "w") as f:
        f.write("x")
    r = run([netsim, "init", not_dir])
    check(r.returncode == 2 and r.stderr.startswith("netsim init: "), f"init into a file: {r.returncode} {r.stderr}")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("init: the starter project passes netsim check and its CI snippet; init never overwrites")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
