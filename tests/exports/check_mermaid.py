#!/usr/bin/env python3
"""sequence.mmd rendered by Mermaid CLI 11 (tests/tools/, `npm ci` there; puppeteer drives the
system /usr/bin/chromium) for every bundled scenario, in one browser session (one Markdown file of
diagrams):
- every diagram renders (mmdc exits 0, an SVG per diagram);
- what a reader needs is drawn: ping-across-routers shows its echo requests and replies;
  specific-shadows-wildcard shows the listen and close steps that explain the uncovering before
  the delivery to the wildcard; no diagram opens with the starting addresses (loopback) as notes;
- mmdc fails on a broken diagram (so a pass means the diagrams parsed).
usage: check_mermaid.py NETSIM SOURCE_DIR WORK_DIR"""
import os
import re
import sys

from tool_test import ToolTest

MARKDOWN = ".md"  # mmdc renders every diagram of a Markdown file in one browser session


def main():
    netsim, source, work = sys.argv[1:4]
    t = ToolTest("mermaid/mmdc", netsim, source, work)
    tools = t.scenario("tests/tools")
    mmdc = os.path.join(tools, "node_modules", ".bin", "mmdc")
    t.need("/usr/bin/chromium", "apt-get install -y chromium")
    t.need(mmdc, "cd tests/tools && PUPPETEER_SKIP_DOWNLOAD=1 npm ci")
    config = os.path.join(tools, "puppeteer-config.json")

    diagrams = {}
    for name, path in t.bundled():
        out = t.netsim_run(path, os.path.join(work, name))
        with open(os.path.join(out, "sequence.mmd")) as f:
            diagrams[name] = f.read()
    names = sorted(diagrams)
    doc = os.path.join(work, "all" + MARKDOWN)
    with open(doc, "w") as f:
        for name in names:
            f.write(f"## {name}\n\n```mermaid\n{diagrams[name]}```\n\n")
    for old in os.listdir(work):
        if re.match(r"all-out-\d+\.svg$", old):
            os.remove(os.path.join(work, old))
    # Markdown in, Markdown out: each diagram becomes all-out-N.svg, in order.
    r = t.run([mmdc, "-p", config, "-i", doc, "-o", os.path.join(work, "all-out" + MARKDOWN)], ok=(0, 1))
    t.check(r.returncode == 0, f"mmdc failed:\n{r.stdout}{r.stderr}")
    svgs = sorted((f for f in os.listdir(work) if re.match(r"all-out-\d+\.svg$", f)),
                  key=lambda f: int(re.search(r"(\d+)\.svg$", f).group(1)))
    t.check(len(svgs) == len(names), f"{len(svgs)} SVGs for {len(names)} diagrams")
    svg_of = {}
    for name, svg in zip(names, svgs):
        with open(os.path.join(work, svg)) as f:
            svg_of[name] = f.read()
        t.check("<svg" in svg_of[name] and "Syntax error" not in svg_of[name], f"{name}: no diagram rendered")
    print(f"mmdc rendered {len(svgs)} diagrams")

    ping = svg_of.get("ip-ping-across-routers", "")
    t.check(ping.count("echo_request") == 2 and ping.count("echo_reply") == 2,
            f"ping-across-routers: {ping.count('echo_request')} requests, {ping.count('echo_reply')} replies drawn")
    shadows = diagrams.get("udp-specific-shadows-wildcard", "")
    steps = [shadows.find(s) for s in ("listen echo udp 10.0.0.1:7", "close echo",
                                        'deliver to any by wildcard data "uncovered"')]
    t.check(-1 not in steps and steps == sorted(steps),
            f"specific-shadows-wildcard: listen, close and the uncovered delivery in order: {steps}")
    for name, text in diagrams.items():
        first = [line for line in text.splitlines() if line.startswith("  Note") or "->>" in line or "-x" in line][:1]
        t.check(not first or "address_added" not in first[0], f"{name} opens with {first}")

    broken = os.path.join(work, "broken.mmd")
    with open(broken, "w") as f:
        f.write("sequenceDiagram\n  h0->>: no target\n")
    bad = t.run([mmdc, "-p", config, "-i", broken, "-o", os.path.join(work, "broken.svg")], ok=(0, 1))
    t.check(bad.returncode != 0, "mmdc accepts a broken diagram: the render check would prove nothing")
    t.finish()


if __name__ == "__main__":
    main()
