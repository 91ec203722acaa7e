#!/usr/bin/env python3
"""`netsim check --junit` against a JUnit XML schema (tests/data/junit.xsd, validated by xmllint):
the file is valid; a failure's `message` is the first failed pointer with its one-line reason (what
`netsim run` prints first), an error's the first diagnostic; `classname` is the directory relative to
the checked PATH ("." at its top); scenarios under a `.netsim-check-skip` directory are testcases
holding <skipped/>; the counts match the testcases. The schema itself must reject a file without
the skipped count, so a valid result means something.
usage: check_junit.py NETSIM SOURCE_DIR WORK_DIR"""
import os
import shutil
import sys
import xml.etree.ElementTree as ET

from tool_test import ToolTest


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("junit/xmllint", netsim, source, work)
    t.need("xmllint", "apt-get install -y libxml2-utils")
    xsd = t.scenario("tests/data/junit.xsd")

    suite = os.path.join(work, "suite")
    shutil.rmtree(suite, ignore_errors=True)
    os.makedirs(os.path.join(suite, "sub"))
    os.makedirs(os.path.join(suite, "later"))
    data = t.scenario("tests/data/check")
    for name in ("ok.json", "failing.json", "broken.json"):
        shutil.copy(os.path.join(data, name), suite)
    shutil.copy(os.path.join(data, "ok.json"), os.path.join(suite, "sub", "deeper.json"))
    shutil.copy(os.path.join(data, "failing.json"), os.path.join(suite, "later", "skipped.json"))
    open(os.path.join(suite, "later", ".netsim-check-skip"), "w").close()

    junit = os.path.join(work, "junit.xml")
    check = t.run([netsim, "check", suite, "--junit", junit, "--progress", "never"], ok=(1,))
    print(check.stdout)
    valid = t.run(["xmllint", "--noout", "--schema", xsd, junit], ok=(0, 3, 4))
    print(valid.stderr.strip())
    t.check(valid.returncode == 0, f"xmllint rejects {junit}: {valid.stderr}")

    # What netsim itself says first about each problem.
    run = t.run([netsim, "run", os.path.join(suite, "failing.json")], ok=(1,)).stdout
    first_failure = next(line[4:] for line in run.splitlines() if line.startswith("  - "))
    validate = t.run([netsim, "validate", os.path.join(suite, "broken.json")], ok=(3,)).stderr
    first_error = validate.splitlines()[0]

    root = ET.parse(junit).getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    t.check(set(cases) == {(".", "ok.json"), (".", "failing.json"), (".", "broken.json"),
                           ("sub", "deeper.json"), ("later", "skipped.json")},
            f"testcases (classname, name): {sorted(cases)}")
    failure = cases.get((".", "failing.json"))
    if t.check(failure is not None and failure.find("failure") is not None, "failing.json has a <failure>"):
        message = failure.find("failure").get("message")
        t.check(message == first_failure, f"failure message {message!r}, want {first_failure!r}")
        t.check(message.startswith("/expect/0: "), f"failure message names the pointer: {message!r}")
    broken = cases.get((".", "broken.json"))
    if t.check(broken is not None and broken.find("error") is not None, "broken.json has an <error>"):
        message = broken.find("error").get("message")
        t.check(message == first_error, f"error message {message!r}, want {first_error!r}")
    skipped = cases.get(("later", "skipped.json"))
    t.check(skipped is not None and skipped.find("skipped") is not None
            and ".netsim-check-skip" in (skipped.find("skipped").get("message") or ""),
            "the scenario under .netsim-check-skip is <skipped/> with the reason")
    for suite_el in [root, *root.iter("testsuite")]:
        tests = list(suite_el.iter("testcase"))
        for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            want = sum(1 for c in tests if c.find(tag) is not None)
            t.check(suite_el.get(attr) == str(want), f"<{suite_el.tag}> {attr}={suite_el.get(attr)}, want {want}")
        t.check(suite_el.get("tests") == str(len(tests)), f"<{suite_el.tag}> tests={suite_el.get('tests')}")
    t.check("1 skipped" in check.stdout and "SKIP  " in check.stdout, "check prints the skipped scenario")

    # The schema is strict enough to mean something: without the skipped count it fails.
    stripped = os.path.join(work, "junit-without-skipped.xml")
    with open(junit) as f, open(stripped, "w") as g:
        g.write(f.read().replace(' skipped="1"', "", 1))
    bad = t.run(["xmllint", "--noout", "--schema", xsd, stripped], ok=(0, 3, 4))
    t.check(bad.returncode != 0, "the schema accepts a testsuites element without its skipped count")
    t.finish()


if __name__ == "__main__":
    main()
